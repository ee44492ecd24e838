"""Give the investigator and the manager the investigations permissions (accounts.roles)."""

from django.db import migrations

from bizreg.accounts.roles import sync_roles_migration


class Migration(migrations.Migration):
    dependencies = [
        ("investigations", "0001_initial"),
    ]

    operations = [migrations.RunPython(sync_roles_migration, migrations.RunPython.noop)]
