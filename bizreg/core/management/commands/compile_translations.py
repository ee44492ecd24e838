"""Compile every .po catalog to .mo with polib, so no gettext install is needed to build."""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "把 locale 目录下的 .po 译文编译为 .mo（无需安装 gettext）"

    def handle(self, *args, **options):
        roots = [Path(p) for p in settings.LOCALE_PATHS] + list(
            (Path(settings.BASE_DIR) / "bizreg").glob("*/locale")
        )
        compiled = 0
        for root in roots:
            for po_path in root.rglob("*.po"):
                mo_path = po_path.with_suffix(".mo")
                if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    continue
                polib.pofile(str(po_path)).save_as_mofile(str(mo_path))
                compiled += 1
        self.stdout.write(f"compiled {compiled} catalog(s)")
