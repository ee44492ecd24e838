"""Writes of the accounts app that other apps call."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from bizreg.accounts.models import User
from bizreg.accounts.roles import ROLE_BY_CODE
from bizreg.core.models import Authority

SYSTEM_USERNAME_PREFIX = "system."


def system_user(*, code: str, display_name: str, role_code: str, authority: Authority) -> User:
    """The account an unattended process acts as (e.g. the scan inbox), created on first use.

    Services check permissions and record who did what, so such a process needs a real user holding the
    role whose work it does. The account is active (Django grants no permission to inactive users) but
    has no usable password, so nobody can sign in as it; its name says it is the system.
    """
    username = f"{SYSTEM_USERNAME_PREFIX}{code}"
    user = User.objects.filter(username=username).first()
    if user is None:
        try:
            with transaction.atomic():
                user = User(username=username, display_name=display_name)
                user.set_unusable_password()
                user._change_reason = "系统账号（自动创建）"
                user.save()
        except IntegrityError:  # another worker created it at the same moment
            user = User.objects.get(username=username)
    if not user.authorities.filter(pk=authority.pk).exists():
        user.authorities.add(authority)
    group = Group.objects.get(name=ROLE_BY_CODE[role_code].name)
    if not user.groups.filter(pk=group.pk).exists():
        user.groups.add(group)
    return user
