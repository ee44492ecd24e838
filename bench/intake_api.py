"""intake_api: registration cases created per second through the REST API under gunicorn, concurrency 8.

Server: gunicorn as `scripts/serve` runs it (`config.wsgi`, 2 workers × 4 threads, access log, the
production database connection settings: DEBUG=0, persistent connections) on a free loopback port,
against the run's throwaway database. Client: 8 threads in this process, each with its own keep-alive
HTTP connection, sending until the request budget or the time budget of the size is spent.

Project: `POST /api/registration-cases/` as a token-authenticated clerk — a 设立 (establishment) case at
the window with its applicant, the new enterprise's data and the materials received: the full intake of
`services.cases.case_intake` (ID, phone and register-rule validation, the day's case number under its
counter row lock, the case, its history row, its materials checklist) and the serialized answer (201).
Reference: `GET /health/` on the same server in the same run — a JSON view that touches nothing (the
floor of a request through gunicorn, the middleware stack and the client).
Figures: requests, errors, seconds, rows_per_s (cases created per second, verified by counting the
cases in the database) / rps, p50/p95 latency. ratio = reference rps ÷ project rps (the cost of an
intake in trivial requests). Goal: project ≥ 0.5 × the trivial view's rate, i.e. ratio ≤ 2.
Floor, beside the result: `POST /bench/floor-write/` (bench/intake_floor.py) — the same body parsed, the
day's next number under the counter's row lock and one row inserted, in one transaction; its ratio to
the trivial view is the best any numbered intake could reach on this machine.

    python -m bench.intake_api --backend postgresql --size quick
"""

from __future__ import annotations

import datetime as dt
import http.client
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from bench.common import (
    REPO,
    backend_args,
    demo_authority,
    emit,
    latency_figures,
    log,
    machine,
    setup_django,
    throwaway_database,
)

CONCURRENCY = 8
# (requests, seconds) budgets: whichever ends first.
SIZES = {
    "quick": {"project": (600, 25), "floor": (3000, 10), "reference": (3000, 10)},
    "full": {"project": (5000, 120), "floor": (20000, 40), "reference": (20000, 40)},
}
WARMUP = 16


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _clerk_token(authority) -> str:
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    from bizreg.accounts.models import User
    from bizreg.accounts.roles import ROLE_BY_CODE

    user = User.objects.create(username="bench_clerk", display_name="基准测试窗口")
    user.authorities.add(authority)
    user.groups.add(Group.objects.get(name=ROLE_BY_CODE["registration_clerk"].name))
    return Token.objects.create(user=user).key


def _payload_factory(authority):
    from bizreg.core.identifiers import build_resident_id
    from bizreg.enterprises.models import Street
    from bizreg.registration.models import MaterialRequirement

    street = Street.objects.filter(division_code=authority.division_code).order_by("code").first()
    materials = list(
        MaterialRequirement.objects.filter(
            case_type="establishment", mandatory=True, is_active=True
        ).values_list("code", flat=True)
    )
    people = [
        build_resident_id("440115", dt.date(1970 + n % 30, 1 + n % 12, 1 + n % 28), n) for n in range(1, 200)
    ]

    def payload(n: int) -> bytes:
        person = people[n % len(people)]
        return json.dumps(
            {
                "case_type": "establishment",
                "channel": "window",
                "enterprise_name": f"广州南沙基准{n:06d}科技有限公司",
                "applicant_name": "陈大文",
                "applicant_id_number": person,
                "applicant_phone": f"138{n % 100_000_000:08d}",
                "materials": materials,
                "requested_changes": {
                    "entity_type": "llc",
                    "legal_rep_name": "陈大文",
                    "legal_rep_id_number": person,
                    "registered_capital": "1000000",
                    "business_scope": "软件开发；信息技术咨询服务",
                    "industry": "I",
                    "address": f"广州市南沙区进港大道{n % 999 + 1}号",
                    "street": street.pk,
                },
            },
            ensure_ascii=False,
        ).encode()

    return payload


class _Server:
    def __init__(self, db: dict, port: int):
        env = dict(os.environ)
        env.update(
            DATABASE_URL=db["url"],
            BIZREG_VAR_DIR=str(db["dir"] / "var"),
            DEBUG="0",
            DB_CONN_MAX_AGE="60",  # the production default: connections live across requests
            # The product's settings plus the write-floor view (bench/intake_floor.py) at its own URL.
            DJANGO_SETTINGS_MODULE="bench.intake_floor_settings",
        )
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
            "--timeout",
            "120",
            # scripts/serve writes gunicorn's access log (one line a request, both sides of the ratio pay it);
            # here to a file rather than stdout, which carries the result line.
            "--access-logfile",
            str(db["dir"] / "access.log"),
            "--log-level",
            "warning",
        ]
        self.port = port
        self.proc = subprocess.Popen(command, cwd=REPO, env=env, start_new_session=True)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/health/")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer /health/ in time")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def _load(
    port: int, *, method: str, path: str, headers: dict, body=None, expect: int, total: int, seconds: float
):
    """Send up to `total` requests from CONCURRENCY threads for at most `seconds`; latency per request."""
    counter = itertools.count()
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            n = next(counter)
            if n >= total or time.perf_counter() > deadline:
                break
            data = body(n) if callable(body) else body
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=data, headers=headers)
                response = conn.getresponse()
                content = response.read()
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    errors.append(type(exc).__name__)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            elapsed = time.perf_counter() - t0
            with lock:
                if response.status == expect:
                    latencies.append(elapsed)
                else:
                    errors.append(f"{response.status}: {content[:200].decode(errors='replace')}")
            if response.will_close:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    figures = (
        latency_figures(latencies) if latencies else {"p50_ms": None, "p95_ms": None, "max_ms": None, "n": 0}
    )
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "first_errors": errors[:3],
        "seconds": round(wall, 2),
        "rps": round(len(latencies) / wall, 1),
        **{k: v for k, v in figures.items() if k != "n"},
    }


def run(backend: str, size: str) -> dict:
    budgets = SIZES[size]
    with throwaway_database(backend) as db:
        setup_django(db)
        from django.db import connections

        from bench import intake_floor
        from bizreg.registration.models import RegistrationCase

        authority = demo_authority()
        token = _clerk_token(authority)
        payload = _payload_factory(authority)
        intake_floor.create_tables()
        connections.close_all()
        port = _free_port()
        server = _Server(db, port)
        try:
            server.wait_ready()
            api_headers = {
                "Authorization": f"Token {token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            }
            trivial_headers = {"Accept": "application/json"}
            offset = 10**6  # warm-up cases get their own names
            warm = _load(
                port,
                method="POST",
                path="/api/registration-cases/",
                headers=api_headers,
                body=lambda n: payload(offset + n),
                expect=201,
                total=WARMUP,
                seconds=60,
            )
            if warm["errors"]:
                raise RuntimeError(f"intake refused during warm-up: {warm['first_errors']}")
            _load(
                port,
                method="GET",
                path="/health/",
                headers=trivial_headers,
                expect=200,
                total=WARMUP * 10,
                seconds=30,
            )

            def measured(budget: str, what: str, **request) -> dict:
                total, seconds = budgets[budget]
                log(f"  {budget}: up to {total} {what} / {seconds}s at concurrency {CONCURRENCY}")
                return _load(port, total=total, seconds=seconds, **request)

            before = RegistrationCase.objects.count()
            project = measured(
                "project",
                "intakes",
                method="POST",
                path="/api/registration-cases/",
                headers=api_headers,
                body=payload,
                expect=201,
            )
            created = RegistrationCase.objects.count() - before
            floor = measured(
                "floor",
                "numbered one-row writes",
                method="POST",
                path="/bench/floor-write/",
                headers={"Content-Type": "application/json", "Accept": "application/json"},
                body=payload,
                expect=201,
            )
            floor_rows = intake_floor.row_count()
            reference = measured(
                "reference",
                "trivial GETs",
                method="GET",
                path="/health/",
                headers=trivial_headers,
                expect=200,
            )
        finally:
            connections.close_all()
            server.stop()
    reference["rows_per_s"] = reference["rps"]
    for figures, rows in ((project, created), (floor, floor_rows)):
        # Rows counted in the database, not 201s: an answer without its row would not count.
        figures["rows"] = rows
        figures["rows_per_s"] = round(rows / figures["seconds"], 1)
        per_s = figures["rows_per_s"]
        figures["ratio"] = round(reference["rps"] / per_s, 2) if per_s else None
    ratio = project.pop("ratio")
    return {
        "bench": "intake_api",
        "size": size,
        "backend": backend,
        "project": project,
        "reference": reference,
        "ratio": ratio,
        # Not the reference: the cheapest numbered write on the same server, i.e. the best ratio
        # any intake could reach here (bench/intake_floor.py).
        "floor": floor,
        "goal": "cases/s through POST /api/registration-cases/ ≥ 0.5 × the trivial view's rps (ratio ≤ 2)",
        "goal_met": ratio is not None and ratio <= 2,
        "server": "gunicorn config.wsgi --workers 2 --threads 4 --access-logfile (as scripts/serve; settings"
        " bench.intake_floor_settings add the floor's URL)",
        "concurrency": CONCURRENCY,
        "machine": machine(),
        "at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def main() -> None:
    args = backend_args(__doc__.splitlines()[0]).parse_args()
    emit(run(args.backend, args.size))


if __name__ == "__main__":
    main()
