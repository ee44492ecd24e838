"""What every benchmark shares: throwaway databases, Django set-up on them, timing helpers, the result line.

A benchmark runs in its own process per backend (`python -m bench.<name> --backend ...`), because the
database has to be chosen before django.setup(). It never touches the development database
(var/bizreg.sqlite3): SQLite runs on a file in a temporary directory, PostgreSQL on `bizreg_bench`
(created and dropped here) at 127.0.0.1:5432 as user postgres. A new database starts from a migrated
copy (the SQLite schema snapshot, a PostgreSQL template database), not from the migrations one by one.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("BENCH_PG_PORT", "5432"))
PG_USER = os.environ.get("BENCH_PG_USER", "postgres")
PG_DB = os.environ.get("BENCH_PG_DB", "bizreg_bench")
# Migrated, empty databases that new benchmark databases are copied from (bench.common._migrate).
PG_TEMPLATE_PREFIX = "bizreg_bench_template_"
RESULT_PREFIX = "BENCH_RESULT "
BACKENDS = ("postgresql", "sqlite")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def pg_url(dbname: str) -> str:
    return f"postgres://{PG_USER}@{PG_HOST}:{PG_PORT}/{dbname}"


def pg_admin():
    import psycopg

    return psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True, connect_timeout=3
    )


def pg_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        with pg_admin() as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 — any failure means "skip PostgreSQL", with the reason shown
        return f"{type(exc).__name__}: {exc}".strip()
    return None


def pg_version() -> str | None:
    try:
        with pg_admin() as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except Exception:  # noqa: BLE001
        return None


def pg_database_exists(dbname: str) -> bool:
    with pg_admin() as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone() is not None


def pg_drop(dbname: str) -> None:
    with pg_admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def pg_create(dbname: str, *, template: str | None = None) -> None:
    pg_drop(dbname)
    with pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{dbname}"' + (f' TEMPLATE "{template}"' if template else ""))


@contextmanager
def throwaway_database(backend: str) -> Iterator[dict]:
    """A fresh, empty database for this process: {'url', 'backend', 'dir', 'sqlite_path' | 'pg_name'}."""
    workdir = Path(tempfile.mkdtemp(prefix="bizreg-bench-"))
    info: dict = {"backend": backend, "dir": workdir}
    try:
        if backend == "sqlite":
            info["sqlite_path"] = workdir / "bench.sqlite3"
            info["url"] = f"sqlite:///{info['sqlite_path']}"
        else:
            pg_create(PG_DB)
            info["pg_name"] = PG_DB
            info["url"] = pg_url(PG_DB)
        yield info
    finally:
        if backend == "postgresql":
            _close_django_connections()
            if os.environ.get("BENCH_KEEP_PG_DB") == "1":
                log(f"  kept PostgreSQL database {PG_DB} (BENCH_KEEP_PG_DB=1): drop it when done")
            else:
                pg_drop(PG_DB)
        shutil.rmtree(workdir, ignore_errors=True)


def _close_django_connections() -> None:
    if "django.db" in sys.modules:
        from django.db import connections

        connections.close_all()


def setup_django(db: dict) -> None:
    """Point the settings at the benchmark's database, start Django and migrate it (untimed)."""
    os.environ["DATABASE_URL"] = db["url"]
    os.environ["BIZREG_VAR_DIR"] = str(db["dir"] / "var")
    os.environ["DEBUG"] = "0"  # no query log: measure what production runs
    os.environ["DB_CONN_MAX_AGE"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.conf import settings

    name = str(settings.DATABASES["default"]["NAME"])
    if name.endswith("bizreg.sqlite3") or (db["backend"] == "postgresql" and name != db["pg_name"]):
        raise RuntimeError(f"benchmark refused to run on {name}: not its throwaway database")
    t0 = time.perf_counter()
    how = _migrate(db)
    log(f"  migrated {db['backend']} in {time.perf_counter() - t0:.1f}s ({how})")


def _migrate(db: dict) -> str:
    """`migrate`, starting a new database from an already migrated copy when there is one: on SQLite the
    project's schema snapshot (as `make run` does), on PostgreSQL a template database named after the
    migrations' fingerprint, made by the first benchmark that migrates an empty database."""
    from django.core.management import call_command
    from django.db import connection, connections

    from bizreg.core import schema_snapshot

    def migrate() -> None:
        call_command("migrate", verbosity=0, interactive=False)

    if connection.vendor == "sqlite":
        loaded = schema_snapshot.build_new_database(connection)
        migrate()
        return "from the schema snapshot" if loaded else "migrations"
    if connection.introspection.table_names():
        migrate()  # a kept database (link_analysis, migration_analytics): only what is new
        return "kept database"
    template = f"{PG_TEMPLATE_PREFIX}{schema_snapshot.migrations_fingerprint()[:16]}"
    connections.close_all()  # CREATE DATABASE … TEMPLATE wants no session on either database
    if pg_database_exists(template):
        pg_create(db["pg_name"], template=template)
        migrate()
        return f"from template {template}"
    migrate()
    connections.close_all()
    with pg_admin() as conn:
        stale = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s AND datname <> %s",
            [PG_TEMPLATE_PREFIX + "%", template],
        ).fetchall()
    for (old,) in stale:
        pg_drop(old)
    pg_create(template, template=db["pg_name"])
    return f"migrations, kept as template {template}"


def demo_authority():
    from bizreg.core.models import Authority

    authority, _ = Authority.objects.get_or_create(
        code="440115", defaults={"name": "广州市南沙区政务服务和数据管理局", "division_code": "440115"}
    )
    return authority


class StderrLog:
    """The `stdout` a DemoContext writes progress to: stderr, so stdout keeps only the result line."""

    def write(self, message: str) -> None:
        log(message)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0–100)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def latency_figures(samples_s: list[float]) -> dict:
    ms = [s * 1000 for s in samples_s]
    return {
        "p50_ms": round(percentile(ms, 50), 3),
        "p95_ms": round(percentile(ms, 95), 3),
        "max_ms": round(max(ms), 3),
        "n": len(ms),
    }


def machine() -> dict:
    return {
        "cores": os.cpu_count(),
        "arch": platform.machine(),
        "python": platform.python_version(),
        "postgresql": pg_version(),
    }


def emit(result: dict) -> None:
    """Hand one result line to bench.run (which prints it and appends it to bench/out/results.jsonl)."""
    print(RESULT_PREFIX + json.dumps(result, ensure_ascii=False), flush=True)


def backend_args(description: str):
    import argparse

    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--backend", choices=BACKENDS, required=True)
    parser.add_argument("--size", choices=("quick", "full"), default="quick")
    return parser
