"""Admin of the tracking app: read-only. Plans, visits, appeals and issues change through the services, which
check the state machines, the officer who owns a visit and the department an appeal was routed to; the
editable settings (plan rules, questionnaire, departments) have their own pages for the manager."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from bizreg.core.admin import ReadOnlyAdmin
from bizreg.tracking.models import (
    Appeal,
    AppealEvent,
    BusinessIssue,
    Department,
    ImprovementMeasure,
    Migration,
    PlanRule,
    Question,
    Questionnaire,
    TrackingReport,
    Visit,
    VisitPlan,
    WatchEntry,
)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AppealEventInline(ReadOnlyInline):
    model = AppealEvent
    fields = ("occurred_at", "label", "from_state", "to_state", "actor", "reason")
    readonly_fields = fields


class QuestionInline(ReadOnlyInline):
    model = Question
    fields = ("order", "code", "text", "answer_type", "required", "signals_move_out")
    readonly_fields = fields


class MeasureInline(ReadOnlyInline):
    model = ImprovementMeasure
    fields = ("description", "owner_department", "due_on", "state", "done_on")
    readonly_fields = fields


@admin.register(VisitPlan)
class VisitPlanAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ("enterprise", "reason", "state", "officer", "planned_on", "due_on", "authority")
    list_filter = ("state", "reason", "authority")
    search_fields = ("enterprise__name", "enterprise__uscc", "source_case_number")
    date_hierarchy = "planned_on"


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ("number", "enterprise", "method", "visited_on", "officer", "state", "authority")
    list_filter = ("state", "method", "authority")
    search_fields = ("number", "enterprise__name", "enterprise__uscc")
    date_hierarchy = "visited_on"
    exclude = ("contact_phone",)


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ("number", "title", "category", "state", "department", "due_on", "raised_on", "authority")
    list_filter = ("state", "category", "department", "authority")
    search_fields = ("number", "title", "enterprise__name")
    date_hierarchy = "raised_on"
    exclude = ("contact_phone",)
    inlines = [AppealEventInline]


@admin.register(Department)
class DepartmentAdmin(ReadOnlyAdmin):
    list_display = ("name", "default_days", "is_active", "authority")
    list_filter = ("is_active", "authority")
    search_fields = ("name",)


@admin.register(PlanRule)
class PlanRuleAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ("reason", "enabled", "window_days", "threshold", "due_days", "authority")
    list_filter = ("enabled", "authority")


@admin.register(Questionnaire)
class QuestionnaireAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ("title", "version", "is_active", "authority")
    list_filter = ("is_active", "authority")
    inlines = [QuestionInline]


@admin.register(Migration)
class MigrationAdmin(ReadOnlyAdmin):
    list_display = ("moved_on", "direction", "enterprise_name", "industry", "counterpart_region", "reason")
    list_filter = ("direction", "industry", "reason", "authority")
    search_fields = ("enterprise_name", "uscc", "case_number")
    date_hierarchy = "moved_on"


@admin.register(WatchEntry)
class WatchEntryAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ("enterprise", "rule", "state", "flagged_on", "authority")
    list_filter = ("rule", "state", "authority")
    search_fields = ("enterprise__name", "enterprise__uscc", "detail")


@admin.register(BusinessIssue)
class BusinessIssueAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ("title", "category", "state", "owner", "found_on", "resolved_on", "authority")
    list_filter = ("state", "category", "authority")
    search_fields = ("title", "description")
    inlines = [MeasureInline]


@admin.register(TrackingReport)
class TrackingReportAdmin(ReadOnlyAdmin):
    list_display = ("number", "period", "period_start", "period_end", "generated_at", "generated_by")
    list_filter = ("period", "authority")
    search_fields = ("number",)
    exclude = ("content",)
