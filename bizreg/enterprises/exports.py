"""The register's Excel export, registered with core.exports: a large one is made by a worker and
downloaded from the job page. Full identity numbers need their permission, checked again when the worker
runs, and every export of them is recorded in the access log."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from bizreg.core.exports import ExportSpec, logs_full_personal_data, register_export
from bizreg.enterprises import excel, selectors

ENTERPRISES = "enterprises.enterprises"
FULL_ID_PERM = "core.view_full_personal_data"


def export_max_rows() -> int:
    return int(getattr(settings, "ENTERPRISE_EXPORT_MAX_ROWS", 100_000))


def enterprise_export_spec(user, query: QueryDict) -> ExportSpec:
    full_id = query.get("full_id") == "1"
    if full_id and not user.has_perm(FULL_ID_PERM):
        raise PermissionDenied(_("您没有导出完整身份证号的权限。"))
    queryset = selectors.enterprise_search(user=user, params=query)

    return ExportSpec(
        title="商事主体",
        headers=excel.EXPORT_HEADERS,
        rows=excel.export_rows(queryset, full_id=full_id),
        filename=_("商事主体_%(time)s.xlsx") % {"time": f"{timezone.localtime():%Y%m%d_%H%M%S}"},
        counted=queryset,
        widths=excel.EXPORT_WIDTHS,
        max_rows=export_max_rows(),
        on_written=logs_full_personal_data(
            user,
            object_type="enterprises.Enterprise",
            label=_("商事主体导出（%(count)d 条）"),
            fields="legal_rep_id_number",
        )
        if full_id
        else None,
    )


register_export(
    ENTERPRISES,
    label=gettext_noop("商事主体"),
    permissions=("enterprises.export_enterprise",),
    build=enterprise_export_spec,
)
