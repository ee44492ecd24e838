"""The registration lists staff export to Excel, registered with core.exports: a large export is made by
a worker and downloaded from the job page. Each builder reads the list as the page filtered it, scoped to
the user at the time it runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.forms import Form
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from bizreg.core.exports import ExportRefused, ExportSpec, register_export
from bizreg.registration.forms.cases import ExtensionHistoryFilterForm
from bizreg.registration.forms.documents import NoticeFilterForm
from bizreg.registration.forms.licences import SheetFilterForm
from bizreg.registration.forms.mail import MailFilterForm
from bizreg.registration.forms.records import FollowUpFilterForm, ServiceRecordFilterForm
from bizreg.registration.selectors import cases as case_selectors
from bizreg.registration.selectors import documents as notice_selectors
from bizreg.registration.selectors import licences as licence_selectors
from bizreg.registration.selectors import mail as mail_selectors
from bizreg.registration.selectors import records as record_selectors

CASES = "registration.cases"
LICENCE_SHEETS = "registration.licence_sheets"
SERVICE_RECORDS = "registration.service_records"
MAIL_PACKAGES = "registration.mail_packages"
FOLLOW_UPS = "registration.follow_ups"
EXTENSIONS = "registration.extensions"
NOTICES = "registration.notices"

EXPORT_COLUMNS = (
    "业务编号",
    "业务类型",
    "办理渠道",
    "状态",
    "企业名称",
    "统一社会信用代码",
    "申请人",
    "申请人身份证号",
    "申请人手机",
    "代理人",
    "收件时间",
    "收件人",
    "受理时间",
    "法定办结日",
    "办理时限",
    "核准/不予登记时间",
    "发照时间",
    "当场办结",
    "已延长",
)

LEDGER_HEADERS = (
    gettext_noop("登记机关"),
    gettext_noop("编号"),
    gettext_noop("类型"),
    gettext_noop("状态"),
    gettext_noop("入库日期"),
    gettext_noop("供应商"),
    gettext_noop("单价（元）"),
    gettext_noop("业务编号"),
    gettext_noop("企业名称"),
    gettext_noop("使用时间"),
    gettext_noop("使用人"),
    gettext_noop("损坏/作废原因"),
    gettext_noop("损坏/作废时间"),
    gettext_noop("登记人"),
    gettext_noop("重新打印用纸"),
)


def export_max_rows() -> int:
    return int(getattr(settings, "REGISTRATION_EXPORT_MAX_ROWS", 200_000))


MAIL_HEADERS = (
    gettext_noop("方向"),
    gettext_noop("快递公司"),
    gettext_noop("快递单号"),
    gettext_noop("企业名称"),
    gettext_noop("统一社会信用代码"),
    gettext_noop("业务编号"),
    gettext_noop("邮寄文件"),
    gettext_noop("登记时间"),
    gettext_noop("登记人"),
    gettext_noop("交接次数"),
    gettext_noop("最近交接"),
)


def mail_export_rows(packages):
    for package in packages.prefetch_related("handovers__to_user"):
        handovers = sorted(package.handovers.all(), key=lambda h: h.occurred_at)
        last = handovers[-1] if handovers else None
        yield (
            package.get_direction_display(),
            package.get_courier_display(),
            package.tracking_number,
            package.enterprise_name,
            package.enterprise.uscc if package.enterprise else "",
            package.case.number if package.case else "",
            "；".join(line for line in package.documents.splitlines() if line.strip()),
            package.recorded_at,
            str(package.recorded_by),
            len(handovers),
            f"{timezone.localtime(last.occurred_at):%Y-%m-%d %H:%M} {_(last.purpose)} → {last.to_user}"
            if last
            else "",
        )


def _filters(form: Form, query: QueryDict) -> Mapping[str, Any]:
    """The list's filters as the export link carries them; an export with a bad one is refused (the list
    page says which), not run over everything."""
    if query and not form.is_valid():
        raise ExportRefused(_("筛选条件无效，请修改后再导出。"))
    return form.cleaned_data if query else {}


def _listing(title: str, *, headers, rows, counted, widths: tuple = ()) -> ExportSpec:
    """A list page's export: one sheet named like the page, the file named after it and the time."""
    return ExportSpec(
        title=title,
        headers=headers,
        rows=rows,
        filename=_stamped(title),
        counted=counted,
        widths=widths,
        max_rows=export_max_rows(),
    )


def _stamped(name: str) -> str:
    return _("%(name)s_%(time)s.xlsx") % {"name": name, "time": f"{timezone.localtime():%Y%m%d_%H%M%S}"}


def case_export_spec(user, query: QueryDict) -> ExportSpec:
    queryset = case_selectors.case_search(user=user, params=query)
    return ExportSpec(
        title=_("登记业务"),
        headers=EXPORT_COLUMNS,
        rows=case_selectors.case_export_rows(queryset, case_selectors.due_dates()),
        filename=_stamped(_("登记业务")),
        counted=queryset,
        max_rows=case_selectors.EXPORT_MAX_ROWS,
    )


def licence_sheet_export_spec(user, query: QueryDict) -> ExportSpec:
    form = SheetFilterForm(query or None)
    filters = form.cleaned_data if form.is_valid() else {}
    sheets = licence_selectors.sheet_search(user=user, filters=filters)
    return _listing(
        _("执照纸台账"),
        headers=[_(h) for h in LEDGER_HEADERS],
        rows=licence_selectors.sheet_export_rows(sheets),
        counted=sheets,
    )


def service_record_export_spec(user, query: QueryDict) -> ExportSpec:
    filters = _filters(ServiceRecordFilterForm(query or None, user=user), query)
    queryset = record_selectors.service_record_search(user=user, filters=filters)
    return _listing(
        _("信息录入与指引记录"),
        headers=record_selectors.EXPORT_HEADERS,
        rows=record_selectors.service_record_export_rows(queryset),
        counted=queryset,
        widths=(18, 22, 12, 36, 22, 20, 12, 40),
    )


def follow_up_export_spec(user, query: QueryDict) -> ExportSpec:
    filters = _filters(FollowUpFilterForm(query, user=user), query)
    tasks = record_selectors.follow_up_search(user=user, filters=filters)
    return _listing(
        _("网办业务跟进"),
        headers=[_(h) for h in record_selectors.FOLLOW_UP_EXPORT_HEADERS],
        rows=record_selectors.follow_up_export_rows(tasks),
        counted=tasks,
        widths=(24, 14, 12, 36, 12, 18, 12, 10, 10, 8, 18, 40),
    )


def extension_export_spec(user, query: QueryDict) -> ExportSpec:
    filters = _filters(ExtensionHistoryFilterForm(query or None), query)
    extensions = case_selectors.extensions_decided(user=user, filters=filters)
    return _listing(
        _("延长办理期限审批"),
        headers=[_(h) for h in case_selectors.EXTENSION_EXPORT_HEADERS],
        rows=case_selectors.extension_export_rows(extensions),
        counted=extensions,
        widths=(24, 14, 36, 18, 40, 10, 18, 10, 10, 18, 36, 12, 18),
    )


def notice_export_spec(user, query: QueryDict) -> ExportSpec:
    filters = _filters(NoticeFilterForm(query or None), query)
    notices = notice_selectors.notice_search(user=user, filters=filters)
    return _listing(
        _("文书登记簿"),
        headers=[_(h) for h in notice_selectors.NOTICE_EXPORT_HEADERS],
        rows=notice_selectors.notice_export_rows(notices),
        counted=notices,
        widths=(30, 24, 24, 14, 36, 18, 10),
    )


def mail_export_spec(user, query: QueryDict) -> ExportSpec:
    form = MailFilterForm(query or None)
    packages = mail_selectors.package_search(user=user, filters=form.cleaned_data if form.is_valid() else {})
    return _listing(
        _("邮寄件"),
        headers=[_(h) for h in MAIL_HEADERS],
        rows=mail_export_rows(packages),
        counted=packages,
    )


for _name, _label, _permission, _build in (
    (CASES, gettext_noop("登记业务"), "registration.view_registrationcase", case_export_spec),
    (LICENCE_SHEETS, gettext_noop("执照纸台账"), "registration.view_licencesheet", licence_sheet_export_spec),
    (
        SERVICE_RECORDS,
        gettext_noop("信息录入与指引记录"),
        "registration.view_servicerecord",
        service_record_export_spec,
    ),
    (MAIL_PACKAGES, gettext_noop("邮寄件"), "registration.view_mailpackage", mail_export_spec),
    (FOLLOW_UPS, gettext_noop("网办业务跟进"), "registration.view_followuptask", follow_up_export_spec),
    (EXTENSIONS, gettext_noop("延长办理期限审批"), "registration.approve_extension", extension_export_spec),
    (NOTICES, gettext_noop("文书登记簿"), "registration.view_notice", notice_export_spec),
):
    register_export(_name, label=_label, permissions=(_permission,), build=_build)
