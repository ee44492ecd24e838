from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from bizreg.core.models import (
    AccessLog,
    Authority,
    BackgroundJob,
    DemoSeedRun,
    WorkingCalendarYear,
    WorkingDayOverride,
)


@admin.register(Authority)
class AuthorityAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "division_code", "is_active")
    search_fields = ("code", "name")
    list_filter = ("is_active",)


@admin.register(WorkingCalendarYear)
class WorkingCalendarYearAdmin(SimpleHistoryAdmin):
    list_display = ("year", "note")


@admin.register(WorkingDayOverride)
class WorkingDayOverrideAdmin(SimpleHistoryAdmin):
    list_display = ("date", "is_working_day", "note")
    list_filter = ("is_working_day",)
    date_hierarchy = "date"
    search_fields = ("note",)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by the system only: an audit trail edited by hand would prove nothing."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    list_display = ("occurred_at", "user", "action", "object_type", "object_label", "fields", "record_count")
    list_filter = ("action", "object_type", "authority")
    search_fields = ("object_label", "object_id", "user__username", "user__display_name")
    date_hierarchy = "occurred_at"
    list_select_related = ("user", "authority")


@admin.register(BackgroundJob)
class BackgroundJobAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "kind",
        "status",
        "authority",
        "created_by",
        "created_at",
        "done",
        "total",
        "attempts",
        "heartbeat_at",
    )
    list_filter = ("status", "kind", "authority")
    list_select_related = ("authority", "created_by")


@admin.register(DemoSeedRun)
class DemoSeedRunAdmin(ReadOnlyAdmin):
    list_display = ("seeder", "authority", "year", "rows", "finished_at")
