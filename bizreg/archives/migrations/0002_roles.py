"""Give the archivist, the digitization operator, the department viewer and the manager the archives
permissions (accounts.roles)."""

from django.db import migrations

from bizreg.accounts.roles import sync_roles_migration


class Migration(migrations.Migration):
    dependencies = [
        ("archives", "0001_initial"),
        ("consultation", "0004_drop_redundant_import_indexes"),
    ]

    operations = [migrations.RunPython(sync_roles_migration, migrations.RunPython.noop)]
