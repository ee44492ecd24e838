from __future__ import annotations

from django.core.paginator import Page, Paginator

from bizreg.core.scoping import scope_to_user
from bizreg.enterprises.models import Enterprise, EnterpriseStatus


def enterprises_visible_to(user):
    return scope_to_user(Enterprise.objects.select_related("street"), user)


def enterprise_page(*, user, params) -> Page:
    return Paginator(enterprises_visible_to(user), 50).get_page(params.get("page"))


def home_figures(*, user) -> list[dict]:
    qs = enterprises_visible_to(user)
    return [
        {"key": "enterprises_total", "label": "在册商事主体", "value": qs.count()},
        {
            "key": "enterprises_active",
            "label": "存续",
            "value": qs.filter(status=EnterpriseStatus.ACTIVE).count(),
        },
    ]
