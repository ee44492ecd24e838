"""Run benchmarks: `python -m bench.run <name> --size quick|full`, or `--all`.

Each benchmark runs once per backend in its own process (the database is chosen before Django starts),
on a throwaway database. Every result is one JSON line — {"bench", "size", "backend", "project",
"reference", "ratio", …} — printed to stdout and appended to bench/out/results.jsonl; progress and a
one-line summary go to stderr. PostgreSQL is skipped, with the reason, when 127.0.0.1:5432 does not answer.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import REPO, RESULT_PREFIX, log, pg_available

OUT = Path(__file__).resolve().parent / "out" / "results.jsonl"

# name → {size: backends it runs on}
BENCHMARKS: dict[str, dict[str, tuple[str, ...]]] = {
    "seed_load": {"quick": ("postgresql", "sqlite"), "full": ("postgresql", "sqlite")},
    "enterprise_search": {"quick": ("postgresql", "sqlite"), "full": ("postgresql",)},
    "intake_api": {"quick": ("postgresql", "sqlite"), "full": ("postgresql", "sqlite")},
    "case_list": {"quick": ("postgresql", "sqlite"), "full": ("postgresql",)},
    "kpi_compute": {"quick": ("postgresql", "sqlite"), "full": ("postgresql", "sqlite")},
    # Retrieval runs in process memory: the database only holds the articles (one revision read per query).
    "qa_retrieval": {"quick": ("sqlite",), "full": ("postgresql", "sqlite")},
    # The goal is stated for PostgreSQL (COPY is its reference); the import path itself runs on both.
    "cdr_import": {"quick": ("postgresql",), "full": ("postgresql",)},
    "archive_search": {"quick": ("postgresql", "sqlite"), "full": ("postgresql", "sqlite")},
    # Its goal is stated for PostgreSQL; the register it builds is kept in its own database for reuse.
    "link_analysis": {"quick": ("postgresql",), "full": ("postgresql",)},
    # The goal is stated for PostgreSQL; the moves it builds are kept in their own database for reuse.
    "migration_analytics": {"quick": ("postgresql",), "full": ("postgresql",)},
    # Pure imaging code, no database: one run, under the "sqlite" slot.
    "ocr_pipeline": {"quick": ("sqlite",), "full": ("sqlite",)},
}


def run_one(name: str, backend: str, size: str) -> dict | None:
    command = [sys.executable, "-m", f"bench.{name}", "--backend", backend, "--size", size]
    log(f"== {name} [{backend}, {size}]")
    t0 = time.perf_counter()
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    result = None
    for line in proc.stdout:
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX) :])
        else:
            sys.stderr.write(line)
    if proc.wait() != 0 or result is None:
        log(f"!! {name} [{backend}] failed (exit {proc.returncode})")
        return None
    result["wall_seconds"] = round(time.perf_counter() - t0, 1)
    line = json.dumps(result, ensure_ascii=False)
    print(line, flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    log(f"   {name} [{backend}, {size}]: ratio {result['ratio']} ({summary(result)})")
    return result


def summary(result: dict) -> str:
    p, r = result["project"], result["reference"]
    if "pages_per_min" in p:
        return f"project {p['pages_per_min']} pages/min; reference {r['pages_per_min']} pages/min"
    if "seconds" in p:
        return f"project {p['seconds']} s, {p['rows_per_s']} rows/s; reference {r['seconds']} s"
    return f"project p50 {p['p50_ms']} ms, p95 {p['p95_ms']} ms; reference p95 {r['p95_ms']} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="bizreg benchmarks (see bench/README.md)")
    parser.add_argument("name", nargs="?", choices=sorted(BENCHMARKS))
    parser.add_argument("--all", action="store_true", help="run every benchmark")
    parser.add_argument("--size", choices=("quick", "full"), default="quick")
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), help="only this backend")
    args = parser.parse_args(argv)
    if not args.all and not args.name:
        parser.error("name a benchmark or pass --all")
    names = sorted(BENCHMARKS) if args.all else [args.name]
    pg_problem = pg_available()
    if pg_problem:
        log(f"PostgreSQL not reachable, its runs are skipped: {pg_problem}")
    t0 = time.perf_counter()
    failed = 0
    for name in names:
        for backend in BENCHMARKS[name][args.size]:
            if args.backend and backend != args.backend:
                continue
            if backend == "postgresql" and pg_problem:
                continue
            failed += run_one(name, backend, args.size) is None
    log(f"benchmarks finished in {time.perf_counter() - t0:.0f} s; results in {OUT.relative_to(REPO)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
