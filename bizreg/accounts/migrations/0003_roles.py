from django.db import migrations

from bizreg.accounts.roles import sync_roles_migration


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_initial"),
        ("core", "0001_initial"),
    ]

    operations = [migrations.RunPython(sync_roles_migration, migrations.RunPython.noop)]
