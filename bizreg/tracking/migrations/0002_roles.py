"""Give the enterprise-service officer, the manager and department members the tracking permissions
(accounts.roles)."""

from django.db import migrations

from bizreg.accounts.roles import sync_roles_migration


class Migration(migrations.Migration):
    dependencies = [
        ("tracking", "0001_initial"),
    ]

    operations = [migrations.RunPython(sync_roles_migration, migrations.RunPython.noop)]
