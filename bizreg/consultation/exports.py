"""The call log's Excel export, registered with core.exports: a large one is made by a worker and
downloaded from the job page. Whole caller numbers need their permission, checked again when the worker
runs, and every export of them is recorded in the access log."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from bizreg.consultation.forms.calls import CallFilterForm
from bizreg.consultation.selectors import calls as selectors
from bizreg.core.exports import ExportRefused, ExportSpec, logs_full_personal_data, register_export

CALLS = "consultation.calls"
FULL_PERM = "core.view_full_personal_data"
_WIDTHS = (18, 14, 10, 12, 15, 16, 18, 18, 10, 10, 20, 10, 8, 22, 20, 8, 16, 50)


def export_max_rows() -> int:
    return int(getattr(settings, "CONSULTATION_EXPORT_MAX_ROWS", 200_000))


def call_export_spec(user, query: QueryDict) -> ExportSpec:
    """The filtered calls; numbers masked, or whole with `full=1` (permission, access-logged)."""
    form = CallFilterForm(query or None, user=user)
    if query and not form.is_valid():
        raise ExportRefused(_("筛选条件无效，请修改后再导出。"))
    full = query.get("full") == "1"
    if full and not user.has_perm(FULL_PERM):
        raise PermissionDenied(_("您没有导出完整来电号码的权限。"))
    queryset = selectors.call_search(user=user, filters=form.cleaned_data if query else {}, full_numbers=full)
    return ExportSpec(
        title=_("来电记录"),
        headers=selectors.EXPORT_HEADERS,
        rows=selectors.call_export_rows(queryset, full=full),
        filename=_("来电记录_%(time)s.xlsx") % {"time": f"{timezone.localtime():%Y%m%d_%H%M%S}"},
        counted=queryset,
        widths=_WIDTHS,
        max_rows=export_max_rows(),
        on_written=logs_full_personal_data(
            user,
            object_type="consultation.Call",
            label=_("来电记录导出（%(count)d 条）"),
            fields="caller_number",
        )
        if full
        else None,
    )


register_export(
    CALLS, label=gettext_noop("来电记录"), permissions=("consultation.view_call",), build=call_export_spec
)
