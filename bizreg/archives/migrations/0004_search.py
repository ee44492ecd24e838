"""Full-text search of the e-archive: ItemSearchDoc (the token text of each item) and, per database, the
engine index over it that Django cannot declare.

SQLite: an external-content FTS5 table (rowid = item id) over archives_itemsearchdoc.tokens, kept in step
by triggers on that table — every write path (the service, bulk_create, a raw bulk load) updates it in
the same transaction, and the token text is stored once. unicode61 splits at the spaces the token text
already has.
PostgreSQL: a stored generated column to_tsvector('simple', tokens) — stored so ranking reads it instead of
re-parsing the tokens of every candidate — under a GIN index. tsvector keeps positions up to 16,383: in a
longer text, phrases past that point match only as separate terms.
"""

import django.db.models.deletion
from django.db import migrations, models

SQLITE_FORWARD = (
    "CREATE VIRTUAL TABLE archives_itemsearch_fts USING fts5(tokens, content='archives_itemsearchdoc', "
    "content_rowid='item_id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER archives_itemsearch_ai AFTER INSERT ON archives_itemsearchdoc BEGIN "
    "INSERT INTO archives_itemsearch_fts(rowid, tokens) VALUES (new.item_id, new.tokens); END",
    "CREATE TRIGGER archives_itemsearch_ad AFTER DELETE ON archives_itemsearchdoc BEGIN "
    "INSERT INTO archives_itemsearch_fts(archives_itemsearch_fts, rowid, tokens) "
    "VALUES ('delete', old.item_id, old.tokens); END",
    "CREATE TRIGGER archives_itemsearch_au AFTER UPDATE OF tokens, item_id ON archives_itemsearchdoc BEGIN "
    "INSERT INTO archives_itemsearch_fts(archives_itemsearch_fts, rowid, tokens) "
    "VALUES ('delete', old.item_id, old.tokens); "
    "INSERT INTO archives_itemsearch_fts(rowid, tokens) VALUES (new.item_id, new.tokens); END",
)
SQLITE_BACKWARD = (
    "DROP TRIGGER IF EXISTS archives_itemsearch_au",
    "DROP TRIGGER IF EXISTS archives_itemsearch_ad",
    "DROP TRIGGER IF EXISTS archives_itemsearch_ai",
    "DROP TABLE IF EXISTS archives_itemsearch_fts",
)
POSTGRES_FORWARD = (
    "ALTER TABLE archives_itemsearchdoc ADD COLUMN search_vector tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, tokens)) STORED",
    "CREATE INDEX archives_itemsearch_gin ON archives_itemsearchdoc USING gin (search_vector)",
)
POSTGRES_BACKWARD = (
    "DROP INDEX IF EXISTS archives_itemsearch_gin",
    "ALTER TABLE archives_itemsearchdoc DROP COLUMN IF EXISTS search_vector",
)


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, ()):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("archives", "0003_item_digitized_at"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="ItemSearchDoc",
            fields=[
                (
                    "item",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="search_doc",
                        serialize=False,
                        to="archives.archiveitem",
                        verbose_name="档案件",
                    ),
                ),
                ("tokens", models.TextField(verbose_name="检索词元")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="索引时间")),
                (
                    "authority",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="core.authority",
                        verbose_name="登记机关",
                    ),
                ),
            ],
            options={"verbose_name": "全文检索索引", "verbose_name_plural": "全文检索索引"},
        ),
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _run({"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}),
        ),
    ]
