"""Stored report content → one DocumentSpec (text, tables and charts) → PDF and .docx bytes.

Both files are a function of the content only: the charts are drawn from the stored figures (reporting.
charts, deterministic PNGs), the creation time is the generation time, so re-rendering a stored report
gives the bytes whose SHA-256 was recorded when it was generated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from bizreg.core import pdf
from bizreg.core.docx import render_docx
from bizreg.tracking.reporting.charts import Series, bar_chart, column_chart

FORMATS = ("pdf", "docx")
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
CHART_WIDTH_MM = 150


def _table(
    header: tuple[str, ...], rows: list[tuple], widths: tuple[float, ...] | None = None
) -> pdf.TableBlock:
    return pdf.TableBlock(
        (header, *(tuple(str(cell) for cell in row) for row in rows)),
        col_widths_mm=widths,
    )


def _pct(value: str) -> str:
    return f"{value}%" if value else "—"


def charts(content: Mapping[str, Any]) -> dict[str, bytes]:
    """The report's charts by name, drawn from its figures."""
    figures = content["figures"]
    visits, appeals, migration = figures["visits"], figures["appeals"], figures["migration"]
    result = {
        "visits_by_month": column_chart(
            title="走访计划与完成情况（按月）",
            categories=[row["label"] for row in visits["by_month"]],
            series=[
                Series("到期计划", tuple(row["planned"] for row in visits["by_month"])),
                Series("完成走访", tuple(row["done"] for row in visits["by_month"])),
            ],
            unit="户次",
        ),
        "visits_by_reason": bar_chart(
            title="走访计划与完成情况（按计划来源）",
            categories=[row["label"] for row in visits["by_reason"]],
            series=[
                Series("到期计划", tuple(row["planned"] for row in visits["by_reason"])),
                Series("完成走访", tuple(row["done"] for row in visits["by_reason"])),
            ],
            unit="户次",
        ),
        "appeals_by_category": bar_chart(
            title="企业诉求（按类别）",
            categories=[row["label"] for row in appeals["by_category"]],
            series=[
                Series("登记", tuple(row["raised"] for row in appeals["by_category"])),
                Series("办结", tuple(row["closed"] for row in appeals["by_category"])),
            ],
            unit="件",
        ),
        "migration_by_month": column_chart(
            title="企业迁入迁出（按月）",
            categories=[row["label"] for row in migration["by_month"]],
            series=[
                Series("迁入", tuple(row["in"] for row in migration["by_month"])),
                Series("迁出", tuple(row["out"] for row in migration["by_month"])),
            ],
            unit="户",
        ),
    }
    if migration["reasons"]:
        result["migration_reasons"] = bar_chart(
            title="企业迁出原因",
            categories=[row["label"] for row in migration["reasons"]],
            series=[Series("迁出", tuple(row["count"] for row in migration["reasons"]))],
            unit="户",
        )
    return result


def _visit_blocks(visits: Mapping[str, Any], pictures: Mapping[str, bytes]) -> list[pdf.Block]:
    methods = {row["key"]: row["count"] for row in visits["by_method"]}
    blocks: list[pdf.Block] = [
        pdf.Heading("二、企业走访"),
        pdf.KeyValues(
            (
                ("到期走访计划", f"{visits['planned']} 项（已完成 {visits['planned_done']} 项）"),
                ("完成走访", f"{visits['done']} 户次"),
                ("其中现场走访", f"{methods.get('on_site', 0)} 户次"),
                ("其中电话访问", f"{methods.get('phone', 0)} 户次"),
                ("走访完成率", _pct(visits["completion_rate"])),
            )
        ),
        pdf.Text(
            "走访完成率＝本期完成（已提交）的走访户次 ÷ 本期到期的走访计划数（不含已取消的计划）。", size=10.5
        ),
    ]
    if visits["by_reason"]:
        blocks.append(
            _table(
                ("计划来源", "到期计划", "完成走访"),
                [(row["label"], row["planned"], row["done"]) for row in visits["by_reason"]],
                (80, 39, 39),
            )
        )
        blocks.append(
            pdf.Image(pictures["visits_by_reason"], CHART_WIDTH_MM, "图1 走访计划与完成情况（按计划来源）")
        )
    blocks.append(pdf.Image(pictures["visits_by_month"], CHART_WIDTH_MM, "图2 走访计划与完成情况（按月）"))
    return blocks


def _appeal_blocks(appeals: Mapping[str, Any], pictures: Mapping[str, bytes]) -> list[pdf.Block]:
    blocks: list[pdf.Block] = [
        pdf.Heading("三、企业诉求"),
        pdf.KeyValues(
            (
                ("登记诉求", f"{appeals['raised']} 件"),
                ("办结诉求", f"{appeals['closed']} 件（按期 {appeals['on_time']} 件）"),
                ("按期办结率", _pct(appeals["on_time_rate"])),
                (
                    "企业满意度",
                    f"{_pct(appeals['satisfaction_rate'])}"
                    f"（评价 {appeals['rated']} 件，满意 {appeals['satisfied']} 件）",
                ),
                ("平均满意度评分", appeals["average_satisfaction"] or "—"),
                ("超期未办结", f"{appeals['overdue_count']} 件"),
            )
        ),
    ]
    if appeals["by_category"]:
        blocks.append(
            _table(
                ("诉求类别", "登记", "办结", "按期办结率", "满意度"),
                [
                    (
                        row["label"],
                        row["raised"],
                        row["closed"],
                        _pct(row["on_time_rate"]),
                        _pct(row["satisfaction_rate"]),
                    )
                    for row in appeals["by_category"]
                ],
                (58, 22, 22, 28, 28),
            )
        )
        blocks.append(pdf.Image(pictures["appeals_by_category"], CHART_WIDTH_MM, "图3 企业诉求（按类别）"))
    if appeals["by_department"]:
        blocks.append(pdf.Text("各承办部门办理情况：", indent=True))
        blocks.append(
            _table(
                ("承办部门", "本期转办", "办结", "按期办结率", "满意度"),
                [
                    (
                        row["name"],
                        row["raised"],
                        row["closed"],
                        _pct(row["on_time_rate"]),
                        _pct(row["satisfaction_rate"]),
                    )
                    for row in appeals["by_department"]
                ],
                (58, 22, 22, 28, 28),
            )
        )
    if appeals["overdue"]:
        more = appeals["overdue_count"] - len(appeals["overdue"])
        blocks.append(
            pdf.Text(
                "超期未办结的诉求"
                + (f"（列前 {len(appeals['overdue'])} 件，另有 {more} 件）：" if more > 0 else "：")
            )
        )
        blocks.append(
            _table(
                ("诉求编号", "企业", "类别", "承办部门", "办理期限", "超期天数"),
                [
                    (
                        row["number"],
                        row["enterprise"],
                        row["category"],
                        row["department"] or "—",
                        row["due_on"],
                        row["days"],
                    )
                    for row in appeals["overdue"]
                ],
                (26, 40, 22, 24, 26, 20),
            )
        )
    return blocks


def _migration_blocks(migration: Mapping[str, Any], watch: Mapping[str, Any], pictures) -> list[pdf.Block]:
    blocks: list[pdf.Block] = [
        pdf.Heading("四、企业迁移"),
        pdf.KeyValues(
            (
                ("迁入企业", f"{migration['in']} 户"),
                ("迁出企业", f"{migration['out']} 户"),
                ("净迁入", f"{migration['net']} 户"),
            )
        ),
        _table(
            ("月份", "迁入", "迁出", "净迁入"),
            [(row["label"], row["in"], row["out"], row["net"]) for row in migration["by_month"]],
            (58, 33, 33, 34),
        ),
        pdf.Image(pictures["migration_by_month"], CHART_WIDTH_MM, "图4 企业迁入迁出（按月）"),
    ]
    if migration["industries"]:
        blocks.append(pdf.Text("迁移企业较多的行业：", indent=True))
        blocks.append(
            _table(
                ("行业门类", "迁入", "迁出"),
                [(row["label"], row["in"], row["out"]) for row in migration["industries"]],
                (98, 30, 30),
            )
        )
    if migration["destinations"] or migration["origins"]:
        rows = []
        for index in range(max(len(migration["destinations"]), len(migration["origins"]))):
            out = migration["destinations"][index] if index < len(migration["destinations"]) else None
            came = migration["origins"][index] if index < len(migration["origins"]) else None
            rows.append(
                (
                    out["region"] if out else "",
                    out["count"] if out else "",
                    came["region"] if came else "",
                    came["count"] if came else "",
                )
            )
        blocks.append(_table(("迁出去向", "户数", "迁入来源", "户数"), rows, (54, 25, 54, 25)))
    if migration["reasons"]:
        blocks.append(
            _table(
                ("迁出原因", "户数"),
                [(row["label"], row["count"]) for row in migration["reasons"]],
                (118, 40),
            )
        )
        blocks.append(pdf.Image(pictures["migration_reasons"], CHART_WIDTH_MM, "图5 企业迁出原因"))
    blocks += [
        pdf.Heading("五、迁出预警"),
        pdf.KeyValues((("新增预警", f"{watch['new']} 条"), ("期末关注企业", f"{watch['watching']} 户"))),
        _table(("预警规则", "新增"), [(row["label"], row["count"]) for row in watch["by_rule"]], (118, 40)),
    ]
    return blocks


def _issue_blocks(issues: Mapping[str, Any]) -> list[pdf.Block]:
    blocks: list[pdf.Block] = [
        pdf.Heading("六、营商环境问题及改进措施"),
        pdf.KeyValues(
            (
                ("新发现问题", f"{issues['found']} 个"),
                ("本期解决", f"{issues['resolved']} 个"),
                ("期末未解决", f"{issues['unresolved']} 个"),
                (
                    "改进措施",
                    f"{issues['measures_total']} 项"
                    f"（已完成 {issues['measures_done']} 项，超期 {issues['measures_overdue']} 项）",
                ),
            )
        ),
    ]
    if issues["items"]:
        blocks.append(
            _table(
                ("问题", "类别", "状态", "责任人", "发现日期", "措施完成"),
                [
                    (
                        row["title"],
                        row["category"],
                        row["state"],
                        row["owner"],
                        row["found_on"],
                        row["measures"],
                    )
                    for row in issues["items"]
                ],
                (50, 26, 18, 20, 24, 20),
            )
        )
    if issues["measures"]:
        blocks.append(pdf.Text("改进措施落实情况：", indent=True))
        blocks.append(
            _table(
                ("问题", "改进措施", "责任部门", "完成期限", "状态"),
                [
                    (row["issue"], row["description"], row["department"] or "—", row["due_on"], row["state"])
                    for row in issues["measures"]
                ],
                (34, 52, 26, 26, 20),
            )
        )
    return blocks


def spec_from_content(content: Mapping[str, Any]) -> pdf.DocumentSpec:
    figures = content["figures"]
    pictures = charts(content)
    blocks: list[pdf.Block] = [
        pdf.KeyValues(
            (
                ("登记机关", content["authority"]),
                ("统计期间", f"{content['period_start']} 至 {content['period_end']}"),
                ("数据截至", content["as_of"]),
            )
        ),
        pdf.Heading("一、总体情况"),
        *(pdf.Text(sentence) for sentence in content["narrative"]),
        *_visit_blocks(figures["visits"], pictures),
        *_appeal_blocks(figures["appeals"], pictures),
        *_migration_blocks(figures["migration"], figures["watch"], pictures),
        *_issue_blocks(figures["issues"]),
    ]
    return pdf.DocumentSpec(
        title=content["title"],
        number=content["number"],
        blocks=blocks,
        signature=pdf.Signature(content["issuer"], content["date_text"]),
        created_at=dt.datetime.fromisoformat(content["generated_at"]),
        author=content["issuer"],
        subject=f"{content['title']} {content['number']}",
        keywords=("企业跟踪服务报告", content["period_label"]),
        footer_note=f"报告编号：{content['number']}",
    )


def render(content: Mapping[str, Any], fmt: str) -> bytes:
    """The report in `fmt` ("pdf" or "docx") from its stored content."""
    spec = spec_from_content(content)
    if fmt == "pdf":
        return pdf.render_pdf(spec)
    if fmt == "docx":
        return render_docx(spec)
    raise ValueError(f"unknown report format {fmt!r}")


def render_all(content: Mapping[str, Any]) -> dict[str, bytes]:
    """Both formats from one spec (the charts are drawn once)."""
    spec = spec_from_content(content)
    return {"pdf": pdf.render_pdf(spec), "docx": render_docx(spec)}
