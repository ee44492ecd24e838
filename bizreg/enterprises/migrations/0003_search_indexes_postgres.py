"""Trigram and prefix indexes for the register search on PostgreSQL (SQLite has no equivalent; skipped there).

- name and former names: `name__icontains` compiles to UPPER(name::text) LIKE UPPER(%s), so the trigram
  index is on that expression;
- name_initials (stored lower-case) and legal_rep_name: plain trigram indexes;
- uscc: varchar_pattern_ops so `LIKE 'PREFIX%'` uses an index under any collation.
"""

from django.db import migrations

INDEXES = [
    ("ent_name_upper_trgm", "enterprises_enterprise", "USING gin ((UPPER((name)::text)) gin_trgm_ops)"),
    ("ent_initials_trgm", "enterprises_enterprise", "USING gin (name_initials gin_trgm_ops)"),
    ("ent_legal_rep_trgm", "enterprises_enterprise", "USING gin (legal_rep_name gin_trgm_ops)"),
    ("ent_uscc_pattern", "enterprises_enterprise", "(uscc varchar_pattern_ops)"),
    ("ent_former_name_upper_trgm", "enterprises_enterpriseformername", "USING gin ((UPPER((name)::text)) gin_trgm_ops)"),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, definition in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} {definition}")


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _definition in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("enterprises", "0002_streets_and_roles"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
