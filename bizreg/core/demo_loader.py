"""Raw inserts for the demo seeders: a district-year is millions of rows, too many for the ORM's save().

COPY on PostgreSQL, executemany on SQLite. Rows are dicts of column attnames; columns a row leaves out get
the field's default, so a field another area adds later (with a default) does not break the demo. With
`history=True`, models that keep django-simple-history get their "created" history row too, made by the
loader's `history_user` unless `insert` is told who made each row (a ticket the public sent was made by
no user; a visit by its officer).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable

from django.db import connection
from django.utils import timezone

BATCH_SIZE = 5_000


class RawLoader:
    def __init__(
        self, *, history: bool = False, history_user: int | None = None, history_reason: str = ""
    ) -> None:
        self.vendor = connection.vendor
        self.history = history
        self.history_user = history_user
        self.history_reason = history_reason
        self.rows = 0
        self.counts: Counter = Counter()

    def ids(self, model, count: int) -> list[int]:
        """Reserve `count` primary keys of `model` (rows that point at each other are built before insert)."""
        if not count:
            return []
        table, pk = model._meta.db_table, model._meta.pk.column
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [table, pk, count],
                )
                return [row[0] for row in cursor.fetchall()]
            cursor.execute(f'SELECT COALESCE(MAX("{pk}"), 0) FROM "{table}"')
            top = cursor.fetchone()[0]
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            seq = cursor.fetchone()
            start = max(top, seq[0] if seq else 0) + 1
            return list(range(start, start + count))

    def insert(
        self,
        model,
        rows: list[dict],
        *,
        with_history: bool | None = None,
        history_user_of: Callable[[dict], int | None] | None = None,
    ) -> int:
        if not rows:
            return 0
        with_history = self.history if with_history is None else with_history
        history = getattr(model, "history", None) if with_history else None
        if history is not None and "id" not in rows[0]:
            # The history row carries the record's id: allocate them up front.
            for pk, row in zip(self.ids(model, len(rows)), rows, strict=True):
                row["id"] = pk
        self._write(model, rows)
        if history is not None:
            own = {f.attname for f in model._meta.concrete_fields}
            keep = [f.attname for f in history.model._meta.concrete_fields if f.attname in own]
            extra = {"history_type": "+", "history_change_reason": self.history_reason}
            self._write(
                history.model,
                [
                    {
                        **{a: row.get(a) for a in keep if a in row},
                        **extra,
                        "history_user_id": history_user_of(row) if history_user_of else self.history_user,
                        "history_date": row.get("created_at") or timezone.now(),
                    }
                    for row in rows
                ],
            )
        return len(rows)

    def update(self, model, rows: list[dict], *, key: str = "id") -> int:
        """Set columns of existing rows matched on `key`; every row names the same columns (rows[0]'s)."""
        if not rows:
            return 0
        meta = model._meta
        fields = [meta.get_field(a) for a in rows[0] if a != key]
        attnames = [f.attname for f in fields]
        converters = [self._converter(f) for f in fields]
        quote = connection.ops.quote_name
        assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
        sql = (
            f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.get_field(key).column)} = %s"
        )
        for start in range(0, len(rows), BATCH_SIZE):
            values = []
            for row in rows[start : start + BATCH_SIZE]:
                value = [row[a] for a in attnames]
                for i, conv in enumerate(converters):
                    if conv is not None and value[i] is not None:
                        value[i] = conv(value[i])
                values.append([*value, row[key]])
            with connection.cursor() as cursor:
                cursor.executemany(sql, values)
        self.rows += len(rows)
        return len(rows)

    def _write(self, model, rows: list[dict]) -> None:
        meta = model._meta
        given = set(rows[0])
        fields = [
            f for f in meta.concrete_fields if f.attname in given or (not f.primary_key and f.has_default())
        ]
        defaults = {f.attname: f.get_default() for f in fields if f.attname not in given}
        attnames = [f.attname for f in fields]
        # Only the columns whose values need adapting go through a converter: a year is millions of values.
        converted = [(i, conv) for i, conv in enumerate(self._converter(f) for f in fields) if conv]
        table = connection.ops.quote_name(meta.db_table)
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        for start in range(0, len(rows), BATCH_SIZE):
            values = []
            for row in rows[start : start + BATCH_SIZE]:
                value = [row[a] if a in row else defaults[a] for a in attnames]
                for i, conv in converted:
                    if value[i] is not None:
                        value[i] = conv(value[i])
                values.append(value)
            with connection.cursor() as cursor:
                if self.vendor == "postgresql":
                    with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                        for value in values:
                            copy.write_row(value)
                else:
                    marks = ", ".join(["%s"] * len(fields))
                    cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)
        self.rows += len(rows)
        self.counts[meta.label] += len(rows)

    def _converter(self, f):
        """The adapter of a non-null value of `f` for the driver, or None when it passes as it is."""
        internal = f.get_internal_type()
        if internal == "JSONField":
            return lambda v: json.dumps(v, ensure_ascii=False)
        if self.vendor == "postgresql":
            return None
        if internal == "DateTimeField":
            # What SQLite's adapt_datetimefield_value stores (UTC, naive ISO text), without its per-value
            # settings lookups; a naive value is taken as already in UTC, as Django does with USE_TZ.
            return lambda v: str(v.astimezone(dt.UTC).replace(tzinfo=None) if v.tzinfo else v)
        if internal == "DateField":
            return lambda v: v.isoformat()
        if internal == "DecimalField":
            return str
        if internal == "BooleanField":
            return int
        return None
