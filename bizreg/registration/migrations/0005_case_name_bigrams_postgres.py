"""PostgreSQL only: character pairs of the case's enterprise name as a stored generated column with a GIN
index, for the case list's two-character name search. SQLite skips this.

The trigram index of 0002 (`case_ent_name_upper_trgm`) cannot serve `LIKE '%麒港%'`: a two-character
pattern holds no whole trigram, so PostgreSQL scanned every case (≈ 160–230 ms at 400k cases, see
bench/RESULTS.md). The register solved the same problem the same way (enterprises 0004–0005, whose
`ent_bigrams` function this column uses): a stored array rather than an expression index, because when a
pair is common (有限, 公司) the list walks the date index and tests rows one by one, and reading a stored
array is cheap where recomputing the pairs of every row is not.

`enterprise_name_bigrams` is unknown to the Django model; PostgreSQL fills it on every insert and update.
Consequence: to change the type of `enterprise_name`, drop the column first and re-add it afterwards
(PostgreSQL refuses the change otherwise, with a clear error).
"""

from django.db import migrations

FORWARD = [
    "ALTER TABLE registration_registrationcase ADD COLUMN IF NOT EXISTS enterprise_name_bigrams text[] "
    "GENERATED ALWAYS AS (ent_bigrams(UPPER((enterprise_name)::text))) STORED",
    "CREATE INDEX IF NOT EXISTS case_ent_name_bigrams ON registration_registrationcase "
    "USING gin (enterprise_name_bigrams)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS case_ent_name_bigrams",
    "ALTER TABLE registration_registrationcase DROP COLUMN IF EXISTS enterprise_name_bigrams",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        # ent_bigrams() is created by the register's migration 0004.
        ("enterprises", "0005_name_bigrams_column_postgres"),
        ("registration", "0004_records"),
    ]

    operations = [migrations.RunPython(forward, backward)]
