"""Admin of the archives app: read-only. Every change goes through the services, which check the state
machines and write the event trail; an archive edited by hand in the admin would prove nothing."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from bizreg.archives.models import (
    AccessRequest,
    ArchiveAccessLog,
    ArchiveEvent,
    ArchiveFile,
    ArchiveItem,
    BorrowRequest,
    DigitizationBatch,
    FixityRun,
    ScanPage,
    ShelfLocation,
    TransferEntry,
    TransferList,
)
from bizreg.core.admin import ReadOnlyAdmin


class ReadOnlyHistoryAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    """Read-only, with the simple_history page to see who changed what."""


@admin.register(ShelfLocation)
class ShelfLocationAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "authority", "capacity", "is_active")
    list_filter = ("authority", "is_active", "repository")


class ArchiveItemInline(admin.TabularInline):
    model = ArchiveItem
    fields = ("item_number", "archival_code", "doc_type", "title", "pages", "open_status", "digitization")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ArchiveFile)
class ArchiveFileAdmin(ReadOnlyHistoryAdmin):
    list_display = ("archival_code", "enterprise_name", "uscc", "year", "status", "location", "authority")
    list_filter = ("authority", "status", "year")
    search_fields = ("archival_code", "enterprise_name", "uscc")
    list_select_related = ("location", "authority")
    raw_id_fields = ("enterprise", "location", "merged_into")
    inlines = [ArchiveItemInline]


@admin.register(ArchiveItem)
class ArchiveItemAdmin(ReadOnlyHistoryAdmin):
    list_display = ("archival_code", "title", "doc_type", "pages", "open_status", "source", "digitization")
    list_filter = ("doc_type", "open_status", "classification", "source", "digitization")
    search_fields = ("archival_code", "title", "case_number")
    raw_id_fields = ("archive", "case")
    exclude = ("text",)


class TransferEntryInline(admin.TabularInline):
    model = TransferEntry
    extra = 0
    can_delete = False
    raw_id_fields = ("case", "archive")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TransferList)
class TransferListAdmin(ReadOnlyHistoryAdmin):
    list_display = ("number", "state", "authority", "created_by", "created_at", "contractor")
    list_filter = ("authority", "state")
    search_fields = ("number", "title")
    inlines = [TransferEntryInline]


@admin.register(BorrowRequest)
class BorrowRequestAdmin(ReadOnlyHistoryAdmin):
    list_display = ("archive", "kind", "state", "borrower", "department", "due_at")
    list_filter = ("authority", "kind", "state")
    search_fields = ("archive__archival_code", "department")
    raw_id_fields = ("archive",)


@admin.register(AccessRequest)
class AccessRequestAdmin(ReadOnlyHistoryAdmin):
    list_display = ("reference", "channel", "requester_kind", "state", "submitted_at", "due_at")
    list_filter = ("authority", "channel", "requester_kind", "state")
    search_fields = ("reference", "uscc", "enterprise_name")
    # Personal data stays out of the admin: it is shown masked, with its access logged, on the staff pages.
    exclude = ("applicant_id_number", "applicant_phone", "access_token_hash")
    raw_id_fields = ("archive",)


@admin.register(ArchiveAccessLog)
class ArchiveAccessLogAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "who", "action", "archive", "item", "detail", "ip_address")
    list_filter = ("action", "authority")
    search_fields = ("who", "archive__archival_code", "detail")
    date_hierarchy = "occurred_at"
    list_select_related = ("archive", "item")


@admin.register(ArchiveEvent)
class ArchiveEventAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "object_type", "object_id", "action", "from_state", "to_state", "actor")
    list_filter = ("object_type", "action", "authority")
    search_fields = ("reason",)
    date_hierarchy = "occurred_at"


@admin.register(DigitizationBatch)
class DigitizationBatchAdmin(ReadOnlyHistoryAdmin):
    list_display = ("number", "state", "authority", "pages_total", "pages_rejected", "finished_at")
    list_filter = ("authority", "state")
    search_fields = ("number",)


@admin.register(ScanPage)
class ScanPageAdmin(ReadOnlyAdmin):
    list_display = ("batch", "sequence", "original_name", "dpi", "is_blank", "qa_status")
    list_filter = ("qa_status", "is_blank")
    raw_id_fields = ("batch", "item")
    exclude = ("ocr_text", "ocr_boxes")


@admin.register(FixityRun)
class FixityRunAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "authority", "files_checked", "files_missing", "files_altered")
    list_filter = ("authority",)
