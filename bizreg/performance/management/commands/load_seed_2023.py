"""manage.py load_seed_2023 [--authority CODE]: load the seed's 2023 project (the golden case)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from bizreg.core.models import Authority
from bizreg.performance.selectors.reports import consistency_findings, report_context
from bizreg.performance.services.golden import load_seed_2023

DEFAULT_AUTHORITY = "440115"  # 广州市南沙区 (the seed's bureau)


class Command(BaseCommand):
    help = (
        "载入 2023 年度经济服务审批工作经费绩效自评报告（黄金样例）的项目、预算、指标和报告文字；"
        "已存在时不重复载入。"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--authority", default=DEFAULT_AUTHORITY, help="登记机关代码（默认 440115）")

    def handle(self, *args, **options) -> None:
        code = options["authority"]
        authority = Authority.objects.filter(code=code).first()
        if authority is None:
            raise CommandError(f"登记机关“{code}”不存在，请先创建登记机关或用 --authority 指定。")
        project = load_seed_2023(authority)
        data = report_context(project)
        findings = consistency_findings(project, data)
        self.stdout.write(
            self.style.SUCCESS(
                f"{project.fiscal_year} {project.name}（项目 #{project.pk}）："
                f"总分 {data.total}，等级{data.grade}，一致性检查 {len(findings)} 项。"
            )
        )
