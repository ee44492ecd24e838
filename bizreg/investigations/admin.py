"""Admin of the investigations app: read-only. Every change goes through the services, which check the
state machine, the clock and the immutability of evidence; a case edited by hand would prove nothing."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from bizreg.core.admin import ReadOnlyAdmin
from bizreg.investigations.models import (
    CaseDocument,
    CaseEnterprise,
    CaseEvent,
    Decision,
    Evidence,
    FieldCheck,
    InvestigationCase,
    RegistrationBan,
    Report,
    VictimSurvey,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class CaseEnterpriseInline(ReadOnlyInline):
    model = CaseEnterprise
    fields = ("enterprise", "added_at", "added_by", "locked")
    readonly_fields = fields


class CaseEventInline(ReadOnlyInline):
    model = CaseEvent
    fields = ("occurred_at", "label", "from_state", "to_state", "actor", "reason")
    readonly_fields = fields


@admin.register(InvestigationCase)
class InvestigationCaseAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = (
        "number",
        "summary",
        "state",
        "source",
        "received_on",
        "investigation_due_on",
        "authority",
    )
    list_filter = ("state", "source", "authority", "extended")
    search_fields = ("number", "summary")
    date_hierarchy = "received_on"
    exclude = ("victim_id_number", "victim_phone")
    inlines = [CaseEnterpriseInline, CaseEventInline]


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = (
        "case",
        "source",
        "received_at",
        "verification_method",
        "verification_result",
        "via_portal",
    )
    list_filter = ("source", "verification_result", "via_portal")
    search_fields = ("case__number", "referral_reference")
    exclude = ("reporter_id_number", "reporter_phone")


@admin.register(FieldCheck)
class FieldCheckAdmin(ReadOnlyAdmin):
    list_display = ("case", "address", "assigned_to", "due_on", "state", "version", "result")
    list_filter = ("state", "result")
    search_fields = ("case__number", "address")


@admin.register(Evidence)
class EvidenceAdmin(ReadOnlyAdmin):
    list_display = ("case", "file_name", "kind", "sha256", "uploaded_by", "uploaded_at", "version")
    list_filter = ("kind",)
    search_fields = ("case__number", "file_name", "sha256")


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ("case", "outcome", "legal_basis", "decided_by", "decided_at")
    list_filter = ("outcome",)


@admin.register(RegistrationBan)
class RegistrationBanAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ("name", "role", "case", "starts_on", "ends_on")
    search_fields = ("case__number",)
    exclude = ("id_number",)


@admin.register(CaseDocument)
class CaseDocumentAdmin(ReadOnlyAdmin):
    list_display = ("number", "kind", "case", "issued_at", "issued_by")
    list_filter = ("kind",)
    search_fields = ("number", "case__number")


@admin.register(VictimSurvey)
class VictimSurveyAdmin(ReadOnlyAdmin):
    list_display = ("case", "sent_at", "answered_at", "score")
    exclude = ("token",)
