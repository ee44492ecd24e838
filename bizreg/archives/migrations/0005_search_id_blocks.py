"""PostgreSQL: each item's tsvector also holds the token of its block of 2**14 item ids (zzfk<id >> 14>),
so the search window can ask the GIN index for "the newest matches" one block at a time.

The window used to bound each step by an item-id range. At a million items the planner, estimating a
phrase at a few dozen rows where it matched tens of thousands, did not intersect the GIN bitmap with the
primary key's range and rechecked every match's tsvector (338 ms for one step). A block token is a term
of the same GIN search, so the intersection never depends on an estimate. GIN drives a search from its
rarest term: a block of 16,384 ids (rarer than most words at a million items) keeps a step to about that
many candidates, where larger blocks (2**16 to 2**24 were tried) let the query's rarest word drive the
step through its posting list over the whole index. search.BLOCK_BITS names the same size; a test checks
that they agree. SQLite is unchanged (FTS5 walks rowids newest first and stops early).

The generated expression cannot be altered in place before PostgreSQL 17: the column is dropped and
added again, which rebuilds every item's vector.
"""

from django.db import migrations

BLOCK_BITS = 14
VECTOR_WITH_BLOCKS = f"to_tsvector('simple'::regconfig, tokens || ' zzfk' || (item_id >> {BLOCK_BITS})::text)"
VECTOR_WITHOUT_BLOCKS = "to_tsvector('simple'::regconfig, tokens)"
CREATE_GIN = "CREATE INDEX archives_itemsearch_gin ON archives_itemsearchdoc USING gin (search_vector)"


def _vector_column(expression: str) -> tuple[str, ...]:
    return (
        "DROP INDEX IF EXISTS archives_itemsearch_gin",
        "ALTER TABLE archives_itemsearchdoc DROP COLUMN IF EXISTS search_vector",
        f"ALTER TABLE archives_itemsearchdoc ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({expression}) STORED",
        CREATE_GIN,
    )


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("archives", "0004_search")]

    operations = [
        migrations.RunPython(
            _run(_vector_column(VECTOR_WITH_BLOCKS)), _run(_vector_column(VECTOR_WITHOUT_BLOCKS))
        ),
    ]
