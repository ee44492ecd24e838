"""Admin of the registration app: the configurable tables (materials checklist, notice issuer profiles,
licence stock thresholds) are edited here; business records (cases, notices, sheets, mail, service
records) are read-only here, because every change to them goes through the services with an actor."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from bizreg.registration import models


@admin.register(models.MaterialRequirement)
class MaterialRequirementAdmin(SimpleHistoryAdmin):
    list_display = ("case_type", "order", "name", "code", "mandatory", "is_active")
    list_filter = ("case_type", "mandatory", "is_active")
    list_editable = ("order", "mandatory", "is_active")
    search_fields = ("name", "code")
    ordering = ("case_type", "order", "id")


for configurable in ("NoticeIssuerProfile", "LicenceStockSetting"):
    model = getattr(models, configurable, None)
    if model is not None and not admin.site.is_registered(model):
        admin.site.register(model, SimpleHistoryAdmin)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Listing and viewing only: these rows are written by the services (workflow, printing, imports)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class TransitionInline(admin.TabularInline):
    model = models.CaseTransitionLog
    fields = ("occurred_at", "action", "from_state", "to_state", "actor", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(models.RegistrationCase)
class RegistrationCaseAdmin(ReadOnlyAdmin):
    list_display = ("number", "case_type", "channel", "state", "enterprise_name", "received_at", "due_on")
    list_filter = ("authority", "case_type", "channel", "state", "extended", "on_the_spot")
    search_fields = ("number", "enterprise_name", "uscc", "external_id")
    date_hierarchy = "received_at"
    # Personal identifiers are not shown here: the case page shows them masked, in full only when logged.
    exclude = ("applicant_id_number", "applicant_phone", "agent_id_number", "agent_phone")
    raw_id_fields = ("enterprise", "received_by")
    inlines = [TransitionInline]


@admin.register(models.CaseNumberCounter)
class CaseNumberCounterAdmin(ReadOnlyAdmin):
    list_display = ("authority", "day", "last")
    list_filter = ("authority",)
    date_hierarchy = "day"


@admin.register(models.CaseExtension)
class CaseExtensionAdmin(ReadOnlyAdmin):
    list_display = ("case", "status", "requested_by", "decided_by", "decided_at")
    list_filter = ("status",)


@admin.register(models.Notice)
class NoticeAdmin(ReadOnlyAdmin):
    list_display = ("number", "kind", "case", "issued_at", "issued_by")
    list_filter = ("authority", "kind")
    search_fields = ("number", "verification_code", "case__number")
    exclude = ("content",)
    raw_id_fields = ("case",)


@admin.register(models.LicenceBatch)
class LicenceBatchAdmin(ReadOnlyAdmin):
    list_display = ("authority", "kind", "prefix", "serial_start", "serial_end", "unit_cost", "received_on")
    list_filter = ("authority", "kind")


@admin.register(models.LicenceSheet)
class LicenceSheetAdmin(ReadOnlyAdmin):
    list_display = ("serial", "kind", "status", "case", "used_at", "used_by")
    list_filter = ("authority", "kind", "status")
    search_fields = ("serial",)
    raw_id_fields = ("case", "batch")


@admin.register(models.MailPackage)
class MailPackageAdmin(ReadOnlyAdmin):
    list_display = ("tracking_number", "courier", "direction", "enterprise_name", "recorded_at")
    list_filter = ("authority", "direction", "courier")
    search_fields = ("tracking_number", "enterprise_name")
    raw_id_fields = ("case", "enterprise")


@admin.register(models.ServiceRecord)
class ServiceRecordAdmin(ReadOnlyAdmin):
    list_display = ("kind", "staff", "enterprise_name", "occurred_at", "minutes")
    list_filter = ("authority", "kind")
    date_hierarchy = "occurred_at"


@admin.register(models.FollowUpTask)
class FollowUpTaskAdmin(ReadOnlyAdmin):
    list_display = ("case", "status", "assignee", "due_on")
    list_filter = ("authority", "status")
    raw_id_fields = ("case",)
