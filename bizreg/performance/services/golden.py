"""The seed document as a golden case (issue 4, item 8): its project, budget, indicators and narrative.

`load_seed_2023` loads the figures of the 2023 self-evaluation report of 经济服务审批工作经费 exactly as the
seed prints them, with the seed's own inconsistencies kept (lines summing to 943.0 万元 against an
execution of 943.07, 业务办理量 for 业务服务量, the 2022 申报表, "10个量化指标" of which four are qualitative,
档案场地租赁项目 with no line, "执行数为 943.1 万元"), so the consistency checks have something real to find.

Every indicator is in manual-evidence mode: the golden case must not depend on the demo data of the other
modules. The actuals are chosen so that only 业务服务量 falls short (360608 of 382000 = 94.4 % → 9.44 of 10)
and the total is 99.44, as the seed reports.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from bizreg.core.money import wan_to_yuan
from bizreg.performance.catalog import SEED_COMPONENTS, SEED_INDICATORS, SEED_LINES, SEED_PROJECT
from bizreg.performance.models import (
    Direction,
    EvaluationReport,
    Indicator,
    Payment,
    Project,
    ProjectStatus,
    QualitativeTier,
)
from bizreg.performance.services import budget, indicators
from bizreg.performance.services.common import record_transition

SEED_YEAR = 2023
SEED_TITLE = "2023 年度广州市南沙区政务服务数据管理局 部门重点项目绩效评价报告"

# 业务服务量: the only indicator that falls short (94.4 % of 382000).
SEED_BUSINESS_VOLUME = Decimal(360608)

SEED_QUALITATIVE_REASONS = {
    "5": "专责小组全年按期处理冒用身份信息虚假注册登记投诉，协助调查、核查和撤销登记工作均已完成，效果明显。",
    "8": "推行全程电子化和一网通办预审，商事登记办理时间较上年进一步压缩，审批效率提高。",
    "9": "被冒用人对处理结果无投诉、无复议，回访均表示满意。",
    "10": "电话咨询回访满意度调查结果为满意，全年无有效投诉。",
}

SEED_DEVIATION_NOTE = (
    "由于市场环境、企业投资南沙意愿等因素，实际登记注册的企业数量比预期少。下一步将结合往年季节规律开展"
    "年中监控，预计不能完成时及时按程序申请调整年度指标值。"
)

# --- the seed's narrative, copied from its text (sections 一, 三, 四, 五, 六, 七) ---

SEED_OVERVIEW = "\n".join(
    [
        "（一）项目单位情况",
        "广州市南沙区政务服务和数据管理局（下称“区政务服务和"
        "数据管理局”）负责办理投资项目、国土规划、建设工程、"
        "环保水务、市场服务等领域的部分行政许可和服务事项，结"
        "合单位职能，区政务服务和数据管理局下设经济服务审批科，"
        "牵头负责“经济服务审批”工作，主要任务是：负责依程序纳"
        "入相对集中许可权改革的涉及企业投资类行政许可和服务事项的"
        "办理，负责指导企业投资和工业等领域技术审查和技术咨询"
        "服务，负责权限内市场监督管理部门相关许可及其服务事项的"
        "受理和审批工作，负责依程序纳入相对集中许可权改革的涉及市场准入类行政许可和服务事项的办理。",
        "2023 年开展的经济服务审批工作项目，包含商事登记辅"
        "助项目、企业综合服务项目、商事登记业务资料规范化处理技术"
        "服务项目、档案辅助整理项目、企业跟踪服务项目、专责小组"
        "及冒用身份虚假注册企业协助调查项目、电话咨询服务项目、"
        "档案场地租赁项目、印刷营业执照等工作内容。",
        "（二）项目背景情况",
        "根据《关于印发南沙首批相对集中行政许可权改革试点集中事"
        "项目录清单的通知》（穗南开管（2017）2号）文件规定，"
        "商事登记业务划转至区政务服务数据管理局实施开展。2018"
        "年8月1日，朝林同志主持召开商事登记工作专题会议，要求我局"
        "进一步优化商事登记工作流程，压缩办理时间，提高审批效率"
        "，确保商事登记效率走在全国前列，开展商事登记辅助项目、"
        "企业综合服务项目、商事登记业务资料规范化处理技术服务项"
        "目、档案辅助整理项目；根据区政府印发的《关于研究区疫情"
        "防控智慧平台平台、“数字城市”建设及企业迁移服务等相关"
        "工作的会议备忘》中政府购买服务形式增强我区服务企业力量"
        "和质量的要求，开展企业跟踪服务项目；根据《关于研究“放"
        "管服”部分问题相关整改协调工作的会议备忘》的文件分工，"
        "区政数局牵头建立查处冒用身份虚假注册长效机制，开展专责"
        "小组及冒用身份虚假注册企业协助调查项目。根据《关于印发"
        "中国（广东）自由贸易试验区广州南沙新区片区深化商事制度"
        "改革先行先试若干规定的通知》，要求登记机关通过咨询窗口、"
        "在线应询、热线电话、微信、QQ群、电子邮箱等形式提供全"
        "程咨询服务，确保知情人知情权，一次性获得准确、权威解答，"
        "开展电话咨询服务项目。根据《关于南沙区国家档案馆搬迁的"
        "公告》，开展档案场地租赁项目。根据《广东省市场监督管理局"
        "关于定制新版营业执照印制相关工作的通知》（粤市监财（2022）543号）要求，开展营业执照印制项目。",
        "（三）项目主要依据",
        "1.《关于印发南沙首批相对集中行政许可权改革试点集中事项目录清单的通知》（穗南开管〔2017〕2号）",
        "2.《关于印发中国（广东）自由贸易试验区广州南沙新片区深化商事制度改革先行先试若干规定的通知》"
        "（穗南自贸管办〔2017〕2号）",
        "3.《关于印发中国（广东）自由贸易试验区广州南沙新片区深化商事制度改革先行先试若干规定实施细则》"
        "（穗南开市质监管〔2017〕21号）",
        "4.《关于研究区疫情防控指挥平台、“数字城市”建设及企业迁移服务等有关工作的会议备忘》",
        "5.《广州市人民政府办公厅关于为新开办企业免费刻制印章的通知》（穗府办函〔2020〕7号）",
        "6.关于南沙区国家档案馆搬迁的公告",
        "7.《关于印发中国（广东）自由贸易试验区广州南沙新区片区深化商事制度改革先行先试若干规定的通知》",
        "8.《关于研究“放管服”部分问题相关整改协调工作的会议纪要》",
    ]
)

SEED_FINANCE_NOTE = "按照合同金额及合同支付方式在完成相关内容后进行支出执行。"

SEED_MANAGEMENT = (
    "参照《政府会计准则》及相关具体准则《政府会计制度》《南沙"
    "区政府采购工作指引（2022年版）》《南沙区政务服务数据"
    "管理局财务管理办法》《南沙区政务服务数据管理局采购管理"
    "办法》《广州市南沙区政务服务数据管理局合同管理办法》等"
    "规定，对项目的预算管理、资金使用、采购流程、合同明细"
    "、实施进度等环节实行全流程督办，全面履行项目监管义务，"
    "确保项目规范、高效、有序推进，做到事前事中事后全面监管。"
)

SEED_GOALS = (
    "本项目设置的年度绩效目标是：一是解决企业疑难业务、处理"
    "全流程电子化网上申报注册登记的材料审查及各种网办问题，"
    "指导政务大厅企业现场办理全流程电子化商事登记的工作，进"
    "一步优化商事登记工作流程，压缩办件时间，提高审批效率；"
    "二是完成商事登记企业信息录入及完成一网通办指引及协助"
    "企业录入；三是解决冒用他人身份信息注册登记带来的一系列"
    "突出矛盾和问题，及时保护广大人民群众合法权益；四是即时"
    "解答申请人或市民提出的咨询，通过电话方式在线指导申请人"
    "准备企业登记注册所需材料和办理业务，提供办理进度查询，"
    "并跟进待解决事项，确保“事事有回音”五是按时完成商事登记"
    "档案扫描上传工作，实现档案信息的内外综合查询与利用；六"
    "是第一时间了解新设企业情况，及时掌握经营企业诉求，增强"
    "我区服务企业力量和质量。七是根据南沙大力推进改革力度，增"
    "加企业开办便利度，确保南沙区企业设立、变更顺利取得证照。"
)

SEED_GOALS_NOTE = (
    SEED_GOALS + "\n绩效目标指标设置与项目内容相符，绩效目标明确。根据2"
    "022年度本项目预算申报表，具体设置10个绩效量化指标。"
)

SEED_ANALYSIS = "\n".join(
    [
        "（一）自评结论综述",
        "2023 年经济服务审批工作经费整体绩效完成良好，绩效测评分值为 99.44 分。扣分是因为数量指标“业务办理量”"
        "未达到预期数量，由于市场环境、企业投资南沙意愿等因素，实际登记注册的企业数量比预期少。",
        "（二）项目绩效分析",
        "项目全年预算数为 943.1 万元，执行数为 943.1 万"
        "元，完成预算的 100%。项目绩效目标完成情况主要是：一是完成"
        "印制企业证照工作；二是完成企业商事登记窗口收件及咨询工"
        "作；三是完成咨询热线接听率达 100%；四是完成商事登记"
        "业务资料规范整理工作；五是完成企业档案整理完成度达 10"
        "0%；六是完成企业信息录入业务工作；七是完成虚假注册案件"
        "清理工作。",
    ]
)

SEED_PROBLEMS = (
    "对绩效目标管理的认识不够全面、充分。一是绩效目标管理的"
    "过程中易受到不确定性因素的影响，比如疫情过后相当长一段"
    "时间，企业投资意愿保守，造成企业商事登记业务量不如预期"
    "。二是在预算绩效目标实施的过程中，未能根据实际情况及时"
    "调整预算绩效目标和指标。三是部分指标在设置上不够科学和准确，指标难以量化。"
)

SEED_IMPROVEMENTS = (
    "全面、充分认识预算绩效管理，建立预算绩效管理体系，一是"
    "科学合理设置绩效目标，选取年度重点工作、重点目标、重点"
    "指标作为数量指标，尽可能细化、量化，同时选取本部门的"
    "长期工作目标作为效益指标。二是加强预算绩效管理中的有效"
    "沟通，在项目计划发生改变时，应及时向预算主管部门沟通"
    "调整绩效目标和效益指标。三是加强对预算绩效管理的学习，"
    "进一步深入、全面的认识预算绩效管理，树立正确的预算绩效管理意识。"
)

SEED_NARRATIVE = {
    "overview": SEED_OVERVIEW,
    "finance_note": SEED_FINANCE_NOTE,
    "management": SEED_MANAGEMENT,
    "goals_note": SEED_GOALS_NOTE,
    "analysis": SEED_ANALYSIS,
    "problems": SEED_PROBLEMS,
    "improvements": SEED_IMPROVEMENTS,
}


def _manual_actual(code: str, target: Decimal | None) -> Decimal | None:
    if code == "1":
        return SEED_BUSINESS_VOLUME
    return target


def load_seed_2023(authority, actor=None) -> Project:
    """The seed's 2023 project in `authority` (created once; an existing one is returned unchanged).

    Project, lines, sub-projects, payments and indicators go through the budget and indicator services,
    so the golden case passes the same validation as typed data. The qualitative evaluation and the
    activation are written here: they are permission-checked steps of a person, and the loader may run
    without one (tests, the management command).
    """
    existing = Project.objects.filter(
        authority=authority, code=SEED_PROJECT["code"], fiscal_year=SEED_PROJECT["fiscal_year"]
    ).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        project = budget.project_create(
            authority=authority,
            actor=actor,
            period_start=dt.date(SEED_YEAR, 1, 1),
            period_end=dt.date(SEED_YEAR, 12, 31),
            goals=SEED_GOALS,
            **SEED_PROJECT,
        )
        lines = {}
        for order, (code, name, wan) in enumerate(SEED_LINES, start=1):
            lines[code] = budget.line_create(
                project=project, actor=actor, code=code, name=name, amount=wan_to_yuan(wan), order=order
            )
        for order, (name, codes) in enumerate(SEED_COMPONENTS, start=1):
            budget.component_create(
                project=project, actor=actor, name=name, order=order, lines=[lines[c] for c in codes]
            )
        # One payment per line equal to the line: Σ payments = 943.0 万元, while the finance system's
        # reported execution is 943.07 万元 — the seed's own mismatch.
        for line in lines.values():
            payment = {
                "project": project,
                "line": line,
                "paid_on": dt.date(SEED_YEAR, 12, 20),
                "amount": line.amount,
                "voucher_number": f"2023-{line.code}",
                "description": f"{line.name}（按合同约定完成后支付）",
            }
            if actor is not None:
                budget.payment_create(actor=actor, **payment)
            else:
                # payment_create requires the recording person (Payment.recorded_by); without one the
                # row is written directly — it equals its line, so no limit can be overrun.
                Payment.objects.create(recorded_by=None, **payment)
        for order, item in enumerate(SEED_INDICATORS, start=1):
            qualitative = item.direction == Direction.QUALITATIVE
            created = indicators.indicator_create(
                project=project,
                actor=actor,
                data={
                    **item.definition(order),
                    "metric_key": "",
                    "data_source": "2023 年度业务统计台账（手工填报）",
                    "manual_value": None if qualitative else _manual_actual(item.code, item.target_value),
                    "manual_text": item.target_text if qualitative else "",
                    "evidence_note": "2023 年度业务统计台账及佐证材料（绩效自评资料汇编）",
                },
            )
            Indicator.objects.filter(pk=created.pk).update(
                qualitative_tier=QualitativeTier.MET if qualitative else "",
                qualitative_percent=Decimal(100) if qualitative else None,
                evaluation_reason=SEED_QUALITATIVE_REASONS.get(item.code, ""),
                evaluated_by=actor if qualitative else None,
                deviation_note=SEED_DEVIATION_NOTE if item.code == "1" else "",
            )
        Project.objects.filter(pk=project.pk).update(status=ProjectStatus.ACTIVE)
        project.refresh_from_db()
        if actor is not None:
            record_transition(
                obj=project,
                action="activate",
                from_state=ProjectStatus.DRAFT,
                to_state=ProjectStatus.ACTIVE,
                actor=actor,
                reason="载入 2023 年度绩效自评报告（黄金样例）",
            )
        EvaluationReport.objects.create(project=project, title=SEED_TITLE, **SEED_NARRATIVE)
    return project
