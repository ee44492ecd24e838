"""Give the hotline agent and the manager the consultation permissions (accounts.roles)."""

from django.db import migrations

from bizreg.accounts.roles import sync_roles_migration


class Migration(migrations.Migration):
    dependencies = [
        ("consultation", "0001_initial"),
        ("performance", "0002_roles"),
    ]

    operations = [migrations.RunPython(sync_roles_migration, migrations.RunPython.noop)]
