"""Navigation by role: each entry shows only to users holding its permission."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise, SimpleLazyObject
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    permission: str | None
    icon: str = ""  # a bootstrap-icons name, e.g. "buildings"
    # Other pages that belong to this entry although their path lies under another entry's (the cockpit of
    # one project lives under /performance/projects/<pk>/ but is the 绩效驾驶舱 entry).
    also: tuple[str, ...] = ()


# Later modules append their entries here, in menu order. Labels are lazy so the menu follows the
# language of each request.
_INVESTIGATIONS = "investigations.view_investigationcase"

NAVIGATION: list[NavItem] = [
    NavItem(_("首页"), "core:home", None, "house-door"),
    NavItem(_("商事主体"), "enterprises:list", "enterprises.view_enterprise", "buildings"),
    NavItem(_("登记业务"), "registration:case_list", "registration.view_registrationcase", "journal-text"),
    NavItem(_("到期预警"), "registration:case_due", "registration.view_registrationcase", "alarm"),
    NavItem(_("文书"), "registration:notice_list", "registration.view_notice", "file-earmark-text"),
    NavItem(_("执照库存"), "registration:licence_stock", "registration.view_licencesheet", "printer"),
    NavItem(_("邮寄件"), "registration:mail_list", "registration.view_mailpackage", "envelope"),
    NavItem(_("信息录入与指引"), "registration:records_list", "registration.view_servicerecord", "keyboard"),
    NavItem(_("网办跟进"), "registration:follow_up_list", "registration.view_followuptask", "telephone"),
    NavItem(_("网办导入"), "registration:online_import", "registration.add_registrationcase", "download"),
    NavItem(_("咨询工单"), "consultation:ticket_queue", "consultation.view_ticket", "chat-dots"),
    NavItem(_("投诉处理"), "consultation:complaints", "consultation.view_ticket", "exclamation-octagon"),
    NavItem(_("热线来电"), "consultation:call_list", "consultation.view_call", "telephone-inbound"),
    NavItem(_("话务看板"), "consultation:dashboard", "consultation.view_call", "graph-up"),
    NavItem(_("容量规划"), "consultation:capacity_planner", "consultation.plan_capacity", "calculator"),
    NavItem(_("话单导入"), "consultation:pbx_imports", "consultation.import_pbx", "upload"),
    NavItem(_("热线设置"), "consultation:hotline_list", "consultation.view_hotlinenumber", "diagram-3"),
    NavItem(_("知识库"), "consultation:kb_list", "consultation.view_article", "book"),
    NavItem(_("知识缺口"), "consultation:kb_gaps", "consultation.view_knowledgegap", "question-circle"),
    NavItem(_("企业档案"), "archives:archive_list", "archives.view_archivefile", "archive"),
    NavItem(_("档案检索"), "archives:search", "archives.view_archiveitem", "search"),
    NavItem(_("迁出/迁入档案"), "archives:moved_list", "archives.view_archivefile", "arrow-left-right"),
    NavItem(_("库位"), "archives:shelf_list", "archives.view_shelflocation", "bookshelf"),
    NavItem(_("移交清单"), "archives:transfer_list", "archives.view_transferlist", "list-check"),
    NavItem(_("数字化批次"), "archives:batches", "archives.view_digitizationbatch", "printer"),
    NavItem(_("档案借阅"), "archives:borrow_mine", "archives.view_borrowrequest", "journal-arrow-up"),
    NavItem(_("借阅审批"), "archives:borrow_approvals", "archives.approve_borrow", "check2-square"),
    NavItem(_("借还台"), "archives:borrow_desk", "archives.lend_archive", "arrow-repeat"),
    NavItem(_("档案查询申请"), "archives:access_list", "archives.view_accessrequest", "person-vcard"),
    NavItem(_("冒用身份案件"), "investigations:case_list", _INVESTIGATIONS, "incognito"),
    NavItem(_("调查期限"), "investigations:case_due", _INVESTIGATIONS, "hourglass-split"),
    NavItem(_("关联分析"), "investigations:links_search", _INVESTIGATIONS, "diagram-3"),
    NavItem(_("限制登记名单"), "investigations:ban_list", "investigations.view_registrationban", "person-x"),
    NavItem(_("固定性核验"), "archives:fixity_runs", "archives.view_fixityrun", "shield-check"),
    NavItem(_("走访计划"), "tracking:plan_list", "tracking.view_visitplan", "calendar-check"),
    NavItem(_("企业走访"), "tracking:visit_list", "tracking.view_visit", "building-check"),
    NavItem(_("企业诉求"), "tracking:appeal_list", "tracking.view_appeal", "chat-square-text"),
    NavItem(_("迁移分析"), "tracking:migration_analysis", "tracking.view_migration", "arrow-left-right"),
    NavItem(_("迁出预警"), "tracking:watch_list", "tracking.view_watchentry", "exclamation-triangle"),
    NavItem(_("营商环境问题"), "tracking:issue_list", "tracking.view_businessissue", "clipboard-data"),
    NavItem(_("跟踪服务报告"), "tracking:report_list", "tracking.view_trackingreport", "file-earmark-text"),
    NavItem(
        _("绩效驾驶舱"),
        "performance:cockpit_home",
        "performance.view_project",
        "speedometer2",
        also=("performance:cockpit",),
    ),
    NavItem(_("预算项目"), "performance:project_list", "performance.view_project", "cash-coin"),
    NavItem(_("指标调整"), "performance:adjustment_list", "performance.view_indicatoradjustment", "sliders"),
    NavItem(
        _("绩效自评报告"),
        "performance:report_list",
        "performance.view_evaluationreport",
        "file-earmark-bar-graph",
    ),
    NavItem(_("用户与角色"), "accounts:user_list", "accounts.view_user", "people"),
    NavItem(_("个人信息访问日志"), "core:access_log", "core.view_accesslog", "shield-lock"),
]


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    current = getattr(getattr(request, "resolver_match", None), "view_name", "")
    named = None  # the entry the current page names, if any
    for item in NAVIGATION:
        if item.permission and not user.has_perm(item.permission):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        if current and current in (item.url_name, *item.also):
            named = url
        items.append(
            {
                "label": item.label,
                "url": url,
                "icon": item.icon or "dot",
                "key": item.url_name.replace(":", "-"),
                "active": request.path == url or (url != "/" and request.path.startswith(url)),
            }
        )
    if named is not None:
        for entry in items:
            entry["active"] = entry["url"] == named
    # Lazy: partial (HTMX) responses that never show the header cost no query.
    return {
        "nav_items": items,
        "user_authorities": SimpleLazyObject(lambda: list(user.authorities.values_list("name", flat=True))),
        "user_roles": SimpleLazyObject(lambda: list(user.groups.values_list("name", flat=True))),
    }
