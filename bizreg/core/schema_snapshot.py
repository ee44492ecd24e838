"""A new embedded (SQLite) database built from a snapshot of what the migrations make, instead of by
running them one by one — as Rails loads schema.rb into a new database.

Why: for every operation Django re-renders the in-memory state of each model related to the one changed,
and nearly every model here points at the user model, so a fresh `migrate` spends about 35 s in Python for
under a second of SQL. That was a fifth of `make run`'s first start.

How it stays true:
- The snapshot (schema/sqlite.sql) is the migrated database itself: every table, index, trigger and the
  rows the migrations and their post-migrate handlers write (content types, permissions, role groups, the
  list of applied migrations), dumped by `manage.py schema_snapshot` from a database `migrate` built.
- Its first line holds a fingerprint of every migration file of the project and of the packages it uses,
  the Django version and the cache backend (the portal's migration reads it). The snapshot is used only
  when that fingerprint is the current one and only on an empty SQLite database; otherwise, and on
  PostgreSQL, `migrate` runs as always. After a load `migrate` still runs; it finds nothing to apply.
- A test compares the snapshot with the test database the migrations built (bizreg/core/tests).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
from pathlib import Path

import django
from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper

SNAPSHOT_PATH = Path(__file__).resolve().parent / "schema" / "sqlite.sql"
_FINGERPRINT_PREFIX = "-- migrations fingerprint: "
_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"


def migrations_fingerprint() -> str:
    """A digest of everything a fresh `migrate` depends on: each migration's name and file."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    digest = hashlib.sha256()
    digest.update(f"django {django.get_version()}\n".encode())
    digest.update(f"cache {settings.CACHES['default']['BACKEND']}\n".encode())
    for app_label, name in sorted(loader.disk_migrations):
        migration = loader.disk_migrations[app_label, name]
        digest.update(f"{app_label}.{name}\n".encode())
        digest.update(Path(sys.modules[migration.__module__].__file__).read_bytes())
    return digest.hexdigest()


def embedded_environment(database: Path) -> dict[str, str]:
    """The environment of a child `manage.py` on the embedded defaults (the database cache), with its
    SQLite database at `database`: what the snapshot is made from and checked against."""
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "CACHE_URL")}
    env["DATABASE_URL"] = f"sqlite:///{database}"
    return env


def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return f"X'{value.hex()}'"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _kinds(conn: sqlite3.Connection) -> dict[str, str]:
    """Each schema object's kind as SQLite reports it: table, virtual, shadow (a virtual table's storage)."""
    return {name: kind for _schema, name, kind, *_ in conn.execute("PRAGMA main.table_list")}


def _columns(conn: sqlite3.Connection, table: str) -> list[tuple]:
    return conn.execute(f'PRAGMA table_info("{table}")').fetchall()


def _data_tables(conn: sqlite3.Connection) -> list[str]:
    """Ordinary tables, in creation order: the virtual table's shadow tables are made by its own CREATE."""
    kinds = _kinds(conn)
    return [
        name
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid")
        if kinds.get(name) == "table" and not name.startswith("sqlite_")
    ]


def dump(conn: sqlite3.Connection, fingerprint: str) -> str:
    """The database as one SQL script: tables, their rows, sequences, then indexes, triggers and views
    (created after the rows, so no trigger fires on them). A row's times (when a migration was applied, when
    a seeded checklist item was created) are those of the load, as if the migrations ran then."""
    kinds = _kinds(conn)
    objects = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
        "ORDER BY rowid"
    ).fetchall()
    lines = [
        f"{_FINGERPRINT_PREFIX}{fingerprint}",
        "-- Written by `manage.py schema_snapshot` from a database `migrate` built; do not edit.",
        "BEGIN;",
    ]
    lines += [f"{sql};" for kind, name, sql in objects if kind == "table" and kinds.get(name) != "shadow"]
    for table in _data_tables(conn):
        stamped = [declared == "datetime" for _cid, _name, declared, *_ in _columns(conn, table)]
        for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid'):
            values = [
                _NOW if is_time and value is not None else _literal(value)
                for is_time, value in zip(stamped, row, strict=True)
            ]
            lines.append(f'INSERT INTO "{table}" VALUES({",".join(values)});')
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'").fetchone():
        lines.append("DELETE FROM sqlite_sequence;")
        for name, seq in conn.execute("SELECT name, seq FROM sqlite_sequence ORDER BY name"):
            lines.append(f"INSERT INTO sqlite_sequence VALUES({_literal(name)},{_literal(seq)});")
    lines += [f"{sql};" for kind, _name, sql in objects if kind != "table"]
    lines.append("COMMIT;")
    return "\n".join(lines) + "\n"


def content(conn: sqlite3.Connection) -> dict[str, list]:
    """What two databases must share to be the same migrated database: every schema object's SQL and every
    table's rows (sorted; their times, which are those of the migration run, left out)."""
    found: dict[str, list] = {
        "schema": sorted(
            conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
        )
    }
    kinds = _kinds(conn)
    for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        if kinds.get(table) == "virtual":
            continue
        columns = [name for _cid, name, declared, *_ in _columns(conn, table) if declared != "datetime"]
        selected = ", ".join(f'"{column}"' for column in columns)
        found[table] = sorted(conn.execute(f'SELECT {selected} FROM "{table}"'), key=repr)
    return found


def read_fingerprint(path: Path = SNAPSHOT_PATH) -> str:
    """The fingerprint the snapshot was made with ("" when there is none)."""
    if not path.exists():
        return ""
    with path.open(encoding="utf-8") as snapshot:
        first = snapshot.readline().strip()
    return first.removeprefix(_FINGERPRINT_PREFIX) if first.startswith(_FINGERPRINT_PREFIX) else ""


def load_into(conn: sqlite3.Connection, path: Path = SNAPSHOT_PATH) -> bool:
    """Build an empty database from the snapshot; False (and nothing done) when the database has anything
    in it, or the snapshot is missing or was made from other migrations than the current ones."""
    if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
        return False
    fingerprint = read_fingerprint(path)
    if not fingerprint or fingerprint != migrations_fingerprint():
        return False
    try:
        conn.executescript(path.read_text(encoding="utf-8"))
    except sqlite3.Error:
        conn.rollback()  # the script's own transaction: the database stays empty for `migrate`
        raise
    return True


def build_new_database(connection: BaseDatabaseWrapper) -> bool:
    """`load_into` for a Django connection: SQLite only (PostgreSQL always runs the migrations)."""
    if connection.vendor != "sqlite":
        return False
    connection.ensure_connection()
    return load_into(connection.connection)
