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
    filter_horizontal = ("groups", "user_permissions", "authorities")
