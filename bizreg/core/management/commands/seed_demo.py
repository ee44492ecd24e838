"""manage.py seed_demo: build the deterministic demo district-year (idempotent).

Creates the demo authority, then runs every seeder registered in the apps' `demo.py` modules (see
bizreg.core.demo) in dependency order. Each seeder runs in its own transaction and is recorded in
DemoSeedRun, so a second run adds nothing; on PostgreSQL the planner statistics are refreshed after each
seeder that wrote rows, as the next ones query them.
"""

from __future__ import annotations

import time
from importlib import import_module

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from bizreg.core.demo import DemoContext, ordered_seeders, refresh_planner_statistics
from bizreg.core.models import Authority, DemoSeedRun

DEMO_AUTHORITIES = {
    "440115": {"name": "广州市南沙区政务服务和数据管理局", "division_code": "440115"},
}
MAX_SCALE = 20.0


def autodiscover_seeders() -> None:
    """Import `<app>.demo` of every bizreg app so its seeders register themselves."""
    for config in apps.get_app_configs():
        if config.name.startswith("bizreg."):
            try:
                import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise


def demo_authority(code: str) -> Authority:
    """The authority to seed: an existing one, or the built-in demo authority created on first use."""
    authority = Authority.objects.filter(code=code).first()
    if authority is not None:
        return authority
    if code not in DEMO_AUTHORITIES:
        raise CommandError(
            f"登记机关 {code} 不存在；演示数据内置的登记机关只有：{'、'.join(DEMO_AUTHORITIES)}。"
        )
    authority, _ = Authority.objects.get_or_create(code=code, defaults=DEMO_AUTHORITIES[code])
    return authority


class Command(BaseCommand):
    help = "生成演示用的区县年度数据（商事主体、演示用户及各模块的年度业务记录）；可重复执行，不会重复生成"

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", type=float, default=1.0, help="数据规模倍数（1.0 约 6.2 万户商事主体）"
        )
        parser.add_argument("--year", type=int, default=2023, help="演示年度（默认 2023）")
        parser.add_argument("--authority", default="440115", help="登记机关代码（默认 440115 南沙区）")
        parser.add_argument("--seed", type=int, default=20230101, help="随机种子（相同种子生成相同数据）")

    def handle(self, *args, scale: float, year: int, authority: str, seed: int, **options):
        if not 0 < scale <= MAX_SCALE:
            raise CommandError(f"--scale 应大于 0 且不超过 {MAX_SCALE:g}，当前为 {scale:g}。")
        if not 2001 <= year <= 2100:
            raise CommandError(f"--year 应在 2001–2100 之间，当前为 {year}。")
        started = time.monotonic()
        autodiscover_seeders()
        with transaction.atomic():
            auth = demo_authority(authority.strip())
        ctx = DemoContext(authority=auth, year=year, scale=scale, stdout=self.stdout, seed=seed)
        self.stdout.write(f"演示数据：{auth.name}（{auth.code}）{year} 年度，规模 {scale:g}")
        done = {run.seeder: run for run in DemoSeedRun.objects.filter(authority=auth, year=year)}
        created_total = 0
        for entry in ordered_seeders():
            if entry.name in done:
                self.stdout.write(f"· {entry.name}：已生成（{done[entry.name].rows} 行），跳过")
                message = getattr(entry.func, "skip_message", "")
                if message:
                    self.stdout.write(f"  {message}")
                continue
            self.stdout.write(f"· {entry.name} …")
            t0 = time.monotonic()
            try:
                with transaction.atomic():
                    rows = int(entry.func(ctx) or 0)
                    DemoSeedRun.objects.create(seeder=entry.name, authority=auth, year=year, rows=rows)
            except ValueError as exc:  # a seeder's own refusal, worded for the operator; nothing was kept
                raise CommandError(f"{entry.name} 未完成：{exc}") from exc
            if rows:
                refresh_planner_statistics()
            created_total += rows
            self.stdout.write(f"  完成：{rows} 行，用时 {time.monotonic() - t0:.1f} 秒")
        self.stdout.write(
            self.style.SUCCESS(
                f"演示数据就绪：本次新增 {created_total} 行，用时 {time.monotonic() - started:.1f} 秒"
            )
        )
