"""The new-database snapshot (bizreg.core.schema_snapshot): `make run` builds a new SQLite database from it
instead of running every migration, so it must be exactly what the migrations make, and must be left alone
whenever it might not be."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from bizreg.core import schema_snapshot

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the snapshot is of the embedded SQLite database"
)

REGENERATE = "run `manage.py schema_snapshot` to rewrite bizreg/core/schema/sqlite.sql"


def _loaded(tmp_path: Path, snapshot: Path = schema_snapshot.SNAPSHOT_PATH) -> sqlite3.Connection:
    conn = sqlite3.connect(tmp_path / "new.sqlite3")
    assert schema_snapshot.load_into(conn, snapshot)
    return conn


def _differences(expected: dict[str, list], found: dict[str, list]) -> list[str]:
    lines = []
    for key in sorted(expected.keys() | found.keys()):
        want, got = expected.get(key), found.get(key)
        if want == got:
            continue
        if want is None or got is None:
            lines.append(f"{key}: only in the {'snapshot' if want is None else 'migrated database'}")
            continue
        missing = [row for row in want if row not in got][:3]
        extra = [row for row in got if row not in want][:3]
        lines.append(f"{key}: migrated database has {missing}, snapshot has {extra}")
    return lines


def test_the_snapshot_was_made_from_the_current_migrations():
    assert schema_snapshot.read_fingerprint() == schema_snapshot.migrations_fingerprint(), REGENERATE


@pytest.mark.django_db  # so that pytest-django makes the test database, even when this test runs alone
def test_a_database_built_from_the_snapshot_is_the_one_the_migrations_built(django_db_setup, tmp_path):
    migrated = django_db_setup  # taken from the test database right after `migrate` made it
    assert migrated is not None and migrated["django_migrations"], "the migrated test database was not read"
    built = schema_snapshot.content(_loaded(tmp_path))
    differences = _differences(migrated, built)
    assert not differences, REGENERATE + "\n" + "\n".join(differences)


def test_every_migration_is_recorded_as_applied_and_their_times_are_the_load_time(tmp_path):
    conn = _loaded(tmp_path)
    applied = set(conn.execute("SELECT app, name FROM django_migrations"))
    assert applied == set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    times = {row[0][:10] for row in conn.execute("SELECT applied FROM django_migrations")}
    times |= {row[0][:10] for row in conn.execute("SELECT created_at FROM registration_materialrequirement")}
    (today,) = conn.execute("SELECT date('now')").fetchone()
    assert times == {today}


def test_migrate_finds_nothing_to_apply_on_a_database_built_from_the_snapshot(tmp_path):
    database = tmp_path / "new.sqlite3"
    _loaded(tmp_path).close()
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--plan"],
        cwd=settings.BASE_DIR,
        env=schema_snapshot.embedded_environment(database),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "No planned migration operations." in done.stdout


def test_a_database_with_anything_in_it_is_left_alone(tmp_path):
    conn = sqlite3.connect(tmp_path / "used.sqlite3")
    conn.execute("CREATE TABLE kept (id integer)")
    assert schema_snapshot.load_into(conn) is False
    assert conn.execute("SELECT name FROM sqlite_master").fetchall() == [("kept",)]


def test_a_snapshot_of_other_migrations_is_not_used(tmp_path):
    stale = tmp_path / "stale.sql"
    text = schema_snapshot.SNAPSHOT_PATH.read_text(encoding="utf-8")
    first, rest = text.split("\n", 1)
    stale.write_text(first[:-1] + ("0" if first[-1] != "0" else "1") + "\n" + rest, encoding="utf-8")
    conn = sqlite3.connect(tmp_path / "new.sqlite3")
    assert schema_snapshot.load_into(conn, stale) is False
    assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


def test_a_missing_snapshot_is_not_used(tmp_path):
    conn = sqlite3.connect(tmp_path / "new.sqlite3")
    assert schema_snapshot.load_into(conn, tmp_path / "absent.sql") is False
    assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


def test_the_fingerprint_changes_with_a_migration_file(tmp_path, monkeypatch):
    before = schema_snapshot.migrations_fingerprint()
    loader = MigrationLoader(None, ignore_no_migrations=True)
    module = sys.modules[loader.disk_migrations["tracking", "0001_initial"].__module__]
    copy = tmp_path / "0001_initial.py"
    copy.write_bytes(Path(module.__file__).read_bytes() + b"\n# a changed migration\n")
    monkeypatch.setattr(module, "__file__", str(copy))
    assert schema_snapshot.migrations_fingerprint() != before


def test_the_dump_quotes_every_kind_of_value(tmp_path):
    source = sqlite3.connect(":memory:")
    source.execute("CREATE TABLE t (id integer PRIMARY KEY AUTOINCREMENT, s text, f real, b blob, n integer)")
    source.execute("INSERT INTO t (s, f, b, n) VALUES (?, ?, ?, ?)", ["it's 商事", 0.1, b"\x00\xff", None])
    source.execute("CREATE INDEX t_s ON t (s)")
    script = schema_snapshot.dump(source, "x")
    copy = sqlite3.connect(":memory:")
    copy.executescript(script)
    assert copy.execute("SELECT id, s, f, b, n FROM t").fetchall() == [
        (1, "it's 商事", 0.1, b"\x00\xff", None)
    ]
    assert copy.execute("SELECT seq FROM sqlite_sequence WHERE name = 't'").fetchone() == (1,)
    assert schema_snapshot.content(copy) == schema_snapshot.content(source)


def test_a_snapshot_that_fails_half_way_leaves_the_database_empty(tmp_path):
    broken = tmp_path / "broken.sql"
    first = schema_snapshot.SNAPSHOT_PATH.read_text(encoding="utf-8").split("\n", 1)[0]
    broken.write_text(
        f"{first}\nBEGIN;\nCREATE TABLE made (id integer);\nINSERT INTO absent VALUES (1);\nCOMMIT;\n"
    )
    conn = sqlite3.connect(tmp_path / "new.sqlite3")
    with pytest.raises(sqlite3.OperationalError, match="no such table: absent"):
        schema_snapshot.load_into(conn, broken)
    assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
