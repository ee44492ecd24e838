"""Two-character search on PostgreSQL: trigram indexes cannot serve `LIKE '%海港%'` (a two-character
pattern holds no whole trigram), and two-character words are the commonest Chinese searches. An
immutable function lists a text's character pairs; GIN indexes on it answer "contains this pair" for
names, pinyin initials and former names. SQLite skips this (it has no such indexes).

(0005 replaces the name index by a stored column.)
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION ent_bigrams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 1000 AS $$
  SELECT coalesce(array_agg(DISTINCT substr(value, i, 2)), '{}')
  FROM generate_series(1, char_length(value) - 1) AS i
$$
"""

INDEXES = [
    ("ent_name_bigrams", "enterprises_enterprise", "USING gin (ent_bigrams(UPPER((name)::text)))"),
    ("ent_initials_bigrams", "enterprises_enterprise", "USING gin (ent_bigrams((name_initials)::text))"),
    (
        "ent_former_name_bigrams",
        "enterprises_enterpriseformername",
        "USING gin (ent_bigrams(UPPER((name)::text)))",
    ),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    for name, table, definition in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} {definition}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _definition in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    schema_editor.execute("DROP FUNCTION IF EXISTS ent_bigrams(text)")


class Migration(migrations.Migration):
    dependencies = [
        ("enterprises", "0003_search_indexes_postgres"),
    ]

    operations = [migrations.RunPython(create, drop)]
