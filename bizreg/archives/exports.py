"""The archive list's Excel export, registered with core.exports: a large one (a whole register's
archives) is made by a worker and downloaded from the job page."""

from __future__ import annotations

from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_noop

from bizreg.archives.forms import ArchiveFilterForm
from bizreg.archives.selectors import records as selectors
from bizreg.core.exports import ExportSpec, register_export

ARCHIVES = "archives.archives"


def archive_export_spec(user, query: QueryDict) -> ExportSpec:
    form = ArchiveFilterForm(query or None, shelves=selectors.shelves_visible_to(user))
    filters = form.cleaned_data if form.is_valid() else {}
    return ExportSpec(
        title="企业档案",
        headers=selectors.EXPORT_HEADERS,
        rows=selectors.archive_export_rows(user=user, filters=filters),
        filename=f"企业档案_{timezone.localtime():%Y%m%d_%H%M%S}.xlsx",
        counted=selectors.archive_search(user=user, filters=filters),
    )


register_export(
    ARCHIVES,
    label=gettext_noop("企业档案"),
    permissions=("archives.view_archivefile",),
    build=archive_export_spec,
)
