"""Every role of DESIGN.md exists as a group with exactly its declared permissions after migrate."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission

from bizreg.accounts.roles import ROLES, sync_roles

pytestmark = pytest.mark.django_db

DESIGN_ROLES = {
    "registration_clerk": "窗口/预审人员",
    "archivist": "档案人员",
    "digitization_operator": "数字化加工人员",
    "hotline_agent": "咨询坐席",
    "investigator": "调查人员",
    "enterprise_officer": "企业服务专员",
    "finance_officer": "财务/绩效",
    "manager": "科室负责人",
    # Issue 6: users of the bureau's other departments query the e-archive read-only through their own role.
    "department_viewer": "业务部门查询人员",
}


def _perms(group: Group) -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
    }


def test_every_design_role_is_declared():
    assert {role.code: role.name for role in ROLES} == DESIGN_ROLES


def test_every_declared_permission_exists():
    existing = {
        f"{app}.{codename}"
        for app, codename in Permission.objects.values_list("content_type__app_label", "codename")
    }
    for role in ROLES:
        missing = set(role.permissions) - existing
        assert not missing, f"{role.code} declares unknown permissions {missing}"


@pytest.mark.parametrize("role", ROLES, ids=[r.code for r in ROLES])
def test_group_has_exactly_the_declared_permissions_after_migrate(role):
    group = Group.objects.get(name=role.name)
    assert _perms(group) == set(role.permissions)


def test_sync_roles_repairs_drifted_groups():
    manager = Group.objects.get(name="科室负责人")
    manager.permissions.add(Permission.objects.get(codename="delete_user"))
    Group.objects.get(name="档案人员").delete()
    sync_roles()
    manager_role = next(r for r in ROLES if r.code == "manager")
    assert _perms(Group.objects.get(name="科室负责人")) == set(manager_role.permissions)
    assert Group.objects.filter(name="档案人员").exists()


def test_managers_read_users_and_the_access_log_others_do_not():
    for role in ROLES:
        group_perms = _perms(Group.objects.get(name=role.name))
        assert ("accounts.view_user" in group_perms) == (role.code == "manager"), role.code
        assert ("core.view_accesslog" in group_perms) == (role.code == "manager"), role.code
        assert not any(p.startswith("accounts.") and not p.startswith("accounts.view") for p in group_perms)
