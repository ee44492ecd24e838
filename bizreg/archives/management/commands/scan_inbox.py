"""manage.py scan_inbox [--authority CODE]: take the READY folders of the scan inbox once."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from bizreg.archives.services.watch_folder import watch_dir, watch_folder_scan
from bizreg.core.models import Authority


class Command(BaseCommand):
    help = "读取扫描收件文件夹中已标记 READY 的批次文件夹一次（与每分钟的定时任务相同）。"

    def add_arguments(self, parser):
        parser.add_argument("--authority", help="登记机关代码（默认：DEFAULT_AUTHORITY_CODE）")

    def handle(self, *args, authority=None, **options):
        chosen = None
        if authority:
            chosen = Authority.objects.filter(code=authority, is_active=True).first()
            if chosen is None:
                raise CommandError(f"没有代码为 {authority} 的启用登记机关。")
        results = watch_folder_scan(authority=chosen)
        for r in results:
            where = f"批次 {r.batch.number}" if r.batch else "未建批次（移入 .rejected）"
            self.stdout.write(
                f"{r.folder}: {where}，接收 {len(r.accepted)} 个文件 {r.pages} 页，拒收 {len(r.rejected)} 个"
            )
        self.stdout.write(self.style.SUCCESS(f"收件文件夹 {watch_dir()}：处理 {len(results)} 个批次文件夹。"))
