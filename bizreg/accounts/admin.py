from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from simple_history.admin import SimpleHistoryAdmin

from bizreg.accounts.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin, SimpleHistoryAdmin):
    fieldsets = DjangoUserAdmin.fieldsets + (
        ("bizreg", {"fields": ("display_name", "phone", "employer", "authorities")}),
    )
    list_display = ("username", "display_name", "employer", "is_active", "last_login")
    list_filter = ("is_active", "is_staff", "groups", "authorities")
    search_fields = ("username", "display_name", "email", "employer")
    filter_horizontal = ("groups", "user_permissions", "authorities")
