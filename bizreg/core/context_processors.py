"""Navigation by role: each entry shows only to users holding its permission."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str | None
    icon: str = ""


# Later modules append their entries here, in menu order.
NAVIGATION: list[NavItem] = [
    NavItem("首页", "core:home", None),
    NavItem("商事主体", "enterprises:list", "enterprises.view_enterprise"),
    NavItem("用户与角色", "accounts:user_list", "accounts.view_user"),
    NavItem("个人信息访问日志", "core:access_log", "core.view_accesslog"),
]


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for item in NAVIGATION:
        if item.permission and not user.has_perm(item.permission):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        items.append(
            {
                "label": item.label,
                "url": url,
                "active": request.path == url or (url != "/" and request.path.startswith(url)),
            }
        )
    return {"nav_items": items}
