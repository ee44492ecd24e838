"""The shared cache table (settings.CACHES, DatabaseCache): the public pages' rate limits are counted there,
so they hold across gunicorn workers and nodes. Nothing is created when the cache is Redis."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies: list = []

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
