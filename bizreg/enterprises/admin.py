"""Admin of the register. Entries are changed through the business pages (their services validate and keep
history with the actor); here they are read-only. Address rules and streets are edited here."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from bizreg.enterprises import services
from bizreg.enterprises.models import (
    Enterprise,
    EnterpriseFormerName,
    EnterpriseLock,
    EnterprisePerson,
    FtzAddressRule,
    RegistrationRescission,
    Street,
    UsccException,
)


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class FormerNameInline(admin.TabularInline):
    model = EnterpriseFormerName
    extra = 0
    can_delete = False
    readonly_fields = ["name", "used_until"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Enterprise)
class EnterpriseAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = [
        "uscc",
        "name",
        "entity_type",
        "legal_rep_name",
        "established_on",
        "street",
        "in_ftz",
        "status",
        "uscc_is_exception",
        "authority",
    ]
    list_filter = ["status", "entity_type", "in_ftz", "uscc_is_exception", "industry", "street", "authority"]
    search_fields = ["uscc", "name", "name_initials", "legal_rep_name"]
    list_select_related = ["street", "authority"]
    date_hierarchy = "established_on"
    show_full_result_count = False  # an exact count of a million rows on every admin page is not worth it
    inlines = [FormerNameInline]
    exclude = ["legal_rep_id_number"]  # full ID numbers are shown only on the logged business page


@admin.register(EnterpriseLock)
class EnterpriseLockAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["enterprise", "locked_at", "locked_by", "reason", "case_reference", "released_at"]
    list_filter = ["released_at"]
    search_fields = ["enterprise__name", "enterprise__uscc", "case_reference"]
    list_select_related = ["enterprise", "locked_by"]
    raw_id_fields = ["enterprise"]


@admin.register(UsccException)
class UsccExceptionAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["uscc", "failed_check", "reason", "confirmed_by", "created_at", "authority"]
    search_fields = ["uscc", "reason"]
    list_select_related = ["confirmed_by", "authority"]


@admin.register(FtzAddressRule)
class FtzAddressRuleAdmin(SimpleHistoryAdmin):
    list_display = ["area_name", "address_keyword", "street", "priority", "is_active", "authority"]
    list_filter = ["is_active", "authority", "area_name"]
    search_fields = ["area_name", "address_keyword", "note"]
    list_select_related = ["street", "authority"]

    def save_model(self, request, obj, form, change):
        # Through the service, so every rule change re-tags the authority's enterprises.
        services.ftz_rule_save(rule=obj, actor=request.user)

    def delete_model(self, request, obj):
        services.ftz_rule_delete(rule=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for rule in queryset:
            services.ftz_rule_delete(rule=rule, actor=request.user)


@admin.register(Street)
class StreetAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "division_code"]
    search_fields = ["code", "name"]
    list_filter = ["division_code"]


@admin.register(EnterpriseFormerName)
class EnterpriseFormerNameAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["name", "enterprise", "used_until"]
    search_fields = ["name", "enterprise__name", "enterprise__uscc"]
    list_select_related = ["enterprise"]


@admin.register(EnterprisePerson)
class EnterprisePersonAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["enterprise", "role", "name", "started_on", "ended_on"]
    list_filter = ["role"]
    search_fields = ["name", "enterprise__name", "enterprise__uscc"]
    list_select_related = ["enterprise"]
    raw_id_fields = ["enterprise"]
    exclude = ["id_number", "phone"]  # full identifiers only on the logged business page


@admin.register(RegistrationRescission)
class RegistrationRescissionAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    list_display = ["enterprise", "scope", "decision_reference", "decided_on", "actor"]
    list_filter = ["scope"]
    search_fields = ["enterprise__name", "enterprise__uscc", "decision_reference"]
    list_select_related = ["enterprise", "actor"]
    raw_id_fields = ["enterprise"]
