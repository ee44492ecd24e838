"""manage.py performance_snapshots [--project ID] [--month YYYY-MM]: the monthly indicator snapshots."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from bizreg.performance.models import Project, ProjectStatus
from bizreg.performance.services.indicators import take_monthly_snapshots


def _month(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(f"{text}-01")
    except ValueError:
        raise CommandError(f"月份格式应为 YYYY-MM，收到“{text}”。") from None


class Command(BaseCommand):
    help = "计算绩效指标月度快照（当月值与年初至月末累计值）；默认：执行中的项目、昨天所在月份。"

    def add_arguments(self, parser):
        parser.add_argument("--project", type=int, help="项目标识（默认：全部执行中的项目）")
        parser.add_argument("--month", help="月份 YYYY-MM（默认：昨天所在月份）")

    def handle(self, *args, project=None, month=None, **options):
        day = _month(month) if month else None
        if project is not None:
            projects = Project.objects.filter(pk=project)
            if not projects.exists():
                raise CommandError(f"没有标识为 {project} 的项目。")
        else:
            projects = Project.objects.filter(status=ProjectStatus.ACTIVE)
        total = 0
        for p in projects.order_by("pk"):
            count = len(take_monthly_snapshots(p, day))
            total += count
            self.stdout.write(f"{p}: {count} 个指标快照")
        self.stdout.write(self.style.SUCCESS(f"共 {total} 个快照。"))
