"""The write floor of bench/intake_api: the cheapest request that does what any intake must do.

Served only by the benchmark's own gunicorn (`bench.intake_floor_settings`), never by the product. One
`POST /bench/floor-write/` parses a JSON body, takes the day's next number under the counter's row lock
and inserts one row carrying the body, in one transaction — no authentication, no validation, no ORM
model, no serializer. Its rate against `/health/` on the same server in the same run is the best ratio
a case intake with a gapless number could reach on this machine; the real intake does that and more.
"""

from __future__ import annotations

import datetime as dt
import json

from django.db import connection, transaction
from django.http import HttpResponseBadRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

COUNTER_TABLE = "bench_floor_counter"
ROW_TABLE = "bench_floor_case"


def create_tables() -> None:
    """Run once by the benchmark before the server starts (the same SQL on SQLite and PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {COUNTER_TABLE} (day date PRIMARY KEY, last integer NOT NULL)")
        cursor.execute(f"CREATE TABLE {ROW_TABLE} (number varchar(32) PRIMARY KEY, body text NOT NULL)")
        cursor.execute(f"INSERT INTO {COUNTER_TABLE} (day, last) VALUES (%s, 0)", [dt.date.today()])


def row_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {ROW_TABLE}")
        return cursor.fetchone()[0]


@csrf_exempt
@require_POST
def floor_write(request):
    try:
        body = json.loads(request.body)
    except ValueError:
        return HttpResponseBadRequest("not JSON")
    today = dt.date.today()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {COUNTER_TABLE} SET last = last + 1 WHERE day = %s RETURNING last", [today])
        number = f"FLOOR-{today:%Y%m%d}-{cursor.fetchone()[0]:06d}"
        cursor.execute(
            f"INSERT INTO {ROW_TABLE} (number, body) VALUES (%s, %s)",
            [number, json.dumps(body, ensure_ascii=False)],
        )
    return JsonResponse({"number": number}, status=201)


urlpatterns = [
    path("bench/floor-write/", floor_write),
    path("", include("config.urls")),
]
