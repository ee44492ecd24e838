"""The content of a periodic tracking report: its period, number, title, the figures (selectors.reports) and
the narrative — short sentences generated from the figures — as one JSON-able dict, frozen in
TrackingReport.content. Everything the PDF and the .docx show comes from this dict (reporting.document).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from bizreg.core.pdf import chinese_date
from bizreg.tracking.models import ReportPeriod

CN_QUARTERS = "一二三四"
QUARTER_MONTHS = (1, 4, 7, 10)


def period_end(period: str, start: dt.date) -> dt.date:
    """The first day after the period (half-open end)."""
    months = 1 if period == ReportPeriod.MONTH else 3
    index = start.year * 12 + start.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_code(period: str, start: dt.date) -> str:
    """2023Q1 for a quarter, 2023M03 for a month (the middle of the report number)."""
    if period == ReportPeriod.QUARTER:
        return f"{start.year}Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}M{start.month:02d}"


def period_label(period: str, start: dt.date) -> str:
    if period == ReportPeriod.QUARTER:
        return f"{start.year}年第{CN_QUARTERS[(start.month - 1) // 3]}季度"
    return f"{start.year}年{start.month}月"


def report_title(period: str, start: dt.date) -> str:
    kind = "季度" if period == ReportPeriod.QUARTER else "月度"
    return f"企业跟踪服务{kind}报告（{period_label(period, start)}）"


def _n(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _top(rows: list[Mapping], key: str = "count", label: str = "label", limit: int = 3) -> str:
    picked = [row for row in rows if row.get(key)][:limit]
    return "、".join(f"{row[label]}（{_n(row[key])}）" for row in picked)


def narrative(figures: Mapping[str, Any], label: str) -> list[str]:
    """A few sentences stating the figures, one paragraph per subject, in the report's order."""
    v, a, m, w, i = (figures[k] for k in ("visits", "appeals", "migration", "watch", "issues"))
    methods = {row["key"]: row["count"] for row in v["by_method"]}
    on_site, phone = _n(methods.get("on_site", 0)), _n(methods.get("phone", 0))
    sentences = []
    if v["planned"] or v["done"]:
        sentences.append(
            f"{label}，共完成企业走访 {_n(v['done'])} 户次，"
            f"其中现场走访 {on_site} 户次、电话访问 {phone} 户次；"
            + (
                f"到期走访计划 {_n(v['planned'])} 项，已完成 {_n(v['planned_done'])} 项，"
                f"走访完成率 {v['completion_rate']}%。"
                if v["planned"]
                else "本期无到期走访计划。"
            )
        )
    else:
        sentences.append(f"{label}，无到期走访计划，也未开展企业走访。")
    if a["raised"] or a["closed"]:
        text = f"登记企业诉求 {_n(a['raised'])} 件，办结 {_n(a['closed'])} 件"
        if a["closed"]:
            text += f"，按期办结率 {a['on_time_rate']}%"
        if a["rated"]:
            text += f"，企业满意度 {a['satisfaction_rate']}%（{_n(a['rated'])} 件作出评价）"
        top = _top(a["by_category"], key="raised")
        if top:
            text += f"；诉求主要集中在{top}"
        sentences.append(text + "。")
    else:
        sentences.append("本期未登记、办结企业诉求。")
    if a["overdue_count"]:
        sentences.append(
            f"截至期末，尚有 {_n(a['overdue_count'])} 件诉求超过办理期限未办结，需督促承办部门加快办理。"
        )
    if m["in"] or m["out"]:
        trend = "净迁入" if m["net"] > 0 else ("净迁出" if m["net"] < 0 else "迁入迁出持平")
        amount = f" {_n(abs(m['net']))} 户" if m["net"] else ""
        text = f"企业迁入 {_n(m['in'])} 户、迁出 {_n(m['out'])} 户，{trend}{amount}"
        destinations = _top(m["destinations"], label="region")
        if destinations:
            text += f"；迁出去向主要为{destinations}"
        reasons = _top([row for row in m["reasons"] if row["key"] != "unknown"])
        if reasons:
            text += f"；迁出原因主要为{reasons}"
        sentences.append(text + "。")
    else:
        sentences.append("本期无企业迁入迁出。")
    if w["new"]:
        sentences.append(
            f"新增迁出预警 {_n(w['new'])} 条（{_top(w['by_rule'], limit=4)}），"
            f"期末仍在关注的企业 {_n(w['watching'])} 户。"
        )
    sentences.append(
        f"新发现营商环境问题 {_n(i['found'])} 个，解决 {_n(i['resolved'])} 个，"
        f"期末尚未解决 {_n(i['unresolved'])} 个；"
        f"相关改进措施 {_n(i['measures_total'])} 项，已完成 {_n(i['measures_done'])} 项"
        + (f"，超期未完成 {_n(i['measures_overdue'])} 项。" if i["measures_overdue"] else "。")
    )
    return sentences


def build_content(
    *,
    authority,
    period: str,
    start: dt.date,
    number: str,
    figures: Mapping[str, Any],
    generated_at: dt.datetime,
    generated_by: str,
    as_of: dt.date,
) -> dict:
    """The report's full content (JSON values only)."""
    end = period_end(period, start)
    label = period_label(period, start)
    return {
        "version": 1,
        "title": report_title(period, start),
        "number": number,
        "period": period,
        "period_label": label,
        "period_start": start.isoformat(),
        "period_end": (end - dt.timedelta(days=1)).isoformat(),
        "as_of": as_of.isoformat(),
        "authority": authority.name,
        "issuer": authority.name,
        "generated_at": generated_at.isoformat(),
        "generated_by": generated_by,
        "date_text": chinese_date(generated_at, hanzi=True),
        "figures": dict(figures),
        "narrative": narrative(
            figures, f"{label}（{chinese_date(start)}至{chinese_date(end - dt.timedelta(days=1))}）"
        ),
    }
