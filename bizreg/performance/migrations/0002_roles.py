"""Give the finance/performance officer and the manager the performance permissions (accounts.roles)."""

from django.db import migrations

from bizreg.accounts.roles import sync_roles_migration


class Migration(migrations.Migration):
    dependencies = [
        ("performance", "0001_initial"),
        ("registration", "0005_case_name_bigrams_postgres"),
    ]

    operations = [migrations.RunPython(sync_roles_migration, migrations.RunPython.noop)]
