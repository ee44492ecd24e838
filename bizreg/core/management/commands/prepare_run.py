"""`make run`'s steps before serving, in one process: every Django start-up costs seconds (the URL
checks import every app), and four of them made a later `make run` miss its 20-second budget. A new
SQLite database is built from the migrations' snapshot (bizreg.core.schema_snapshot says why and when)."""

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection

from bizreg.core import schema_snapshot


class Command(BaseCommand):
    help = "启动前的准备（一次进程内完成）：编译译文、迁移数据库、载入演示数据（已有则跳过）、收集静态文件"

    def handle(self, *args, **options):
        call_command("compile_translations", stdout=self.stdout)
        if schema_snapshot.build_new_database(connection):
            self.stdout.write(
                "新数据库已按迁移快照建立（bizreg/core/schema/sqlite.sql），以下迁移检查应无待执行项。"
            )
        call_command("migrate", interactive=False, verbosity=options["verbosity"], stdout=self.stdout)
        call_command("seed_demo", stdout=self.stdout)
        call_command("collectstatic", interactive=False, verbosity=0, stdout=self.stdout)
