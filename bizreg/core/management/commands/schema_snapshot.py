"""manage.py schema_snapshot: rewrite bizreg/core/schema/sqlite.sql (see bizreg.core.schema_snapshot) after a
migration was added or changed. It migrates a new SQLite database in a child process, on the embedded
defaults (the database cache), and dumps it."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bizreg.core import schema_snapshot


class Command(BaseCommand):
    help = "重新生成新库结构快照（bizreg/core/schema/sqlite.sql）：在临时 SQLite 库上执行全部迁移后导出"

    def handle(self, *args, **options):
        with tempfile.TemporaryDirectory() as folder:
            database = Path(folder) / "migrated.sqlite3"
            done = subprocess.run(
                [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
                cwd=settings.BASE_DIR,
                env=schema_snapshot.embedded_environment(database),
                capture_output=True,
                text=True,
            )
            if done.returncode:
                raise CommandError(f"迁移失败，未生成快照：\n{done.stderr[-2000:]}")
            conn = sqlite3.connect(database)
            try:
                script = schema_snapshot.dump(conn, schema_snapshot.migrations_fingerprint())
            finally:
                conn.close()
        path = schema_snapshot.SNAPSHOT_PATH
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(script, encoding="utf-8")
        self.stdout.write(f"已写入 {path}（{len(script.splitlines())} 行）。")
