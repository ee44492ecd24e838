from django.contrib.auth.models import AbstractUser
from django.db import models
from simple_history.models import HistoricalRecords

from bizreg.core.models import Authority


class User(AbstractUser):
    """A staff member; belongs to one or more registration authorities and sees only their records."""

    display_name = models.CharField("姓名", max_length=50, blank=True)
    phone = models.CharField("联系电话", max_length=20, blank=True)
    authorities = models.ManyToManyField(
        Authority, blank=True, related_name="staff", verbose_name="所属登记机关"
    )
    employer = models.CharField(
        "所属单位", max_length=100, blank=True, help_text="外包服务人员填写服务商名称；本局人员留空"
    )
    # Groups are the roles: who granted or removed a role is part of the user's audited history.
    history = HistoricalRecords(
        excluded_fields=["password", "last_login"], m2m_fields=["authorities", "groups"]
    )

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        ordering = ["username"]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def role_codes(self) -> list[str]:
        from bizreg.accounts.roles import role_codes_for

        return role_codes_for(self)
