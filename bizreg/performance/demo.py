"""Demo year of the performance module: the seed's project (经济服务审批工作经费) as it would be kept here.

Seeder `performance.year` (after the registration and consultation years, whose records its indicators
measure) builds for the demo authority and year: the project with the nine budget lines of seed section 二
and the sub-projects of section 一; one or two contracts per line with their vendors and a payment schedule
tied to deliverables (monthly service reports, quarterly reports, delivery batches); the payments made
against that schedule (few in Q1, the year-end settlement in December; never above a contract or a line);
the ten indicators of section 四, measured by the registered metric where one exists and otherwise in manual
mode with an evidence note; one approved and one pending adjustment; the twelve monthly snapshots of the
measured indicators (services.indicators.take_monthly_snapshots, as the month-end job keeps them); and the
draft of the self-evaluation report (narrative only: its numbers are filled in from the data).

Targets counted in records (件, 份) are scaled with the demo's size, so a small demo tells the same story.
Generation draws only from ctx.rng("performance.year"); running it twice adds nothing (seed_demo's
DemoSeedRun, and a guard on the project's code here).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from bizreg.accounts.roles import ROLE_BY_CODE
from bizreg.core.demo import DemoContext, register_seeder
from bizreg.core.metrics_registry import get_metric
from bizreg.core.money import wan_to_yuan
from bizreg.performance import catalog
from bizreg.performance.models import (
    AdjustmentStatus,
    BudgetLine,
    Contract,
    Direction,
    EvaluationReport,
    Indicator,
    IndicatorAdjustment,
    MonthlySnapshot,
    Payment,
    PaymentMilestone,
    PerformanceTransitionLog,
    Project,
    ProjectComponent,
    ProjectStatus,
    QualitativeTier,
    ReportStatus,
)
from bizreg.performance.services.indicators import take_monthly_snapshots

CENT = Decimal("0.01")
HUNDRED_YUAN = Decimal("100")
# Units of targets that count records: these follow the demo's size.
COUNTED_UNITS = {"件", "份"}


@dataclass(frozen=True)
class DemoContract:
    line: str
    title: str
    vendor: str
    schedule: str  # "monthly", "quarterly" or "batches"
    share: float = 1.0  # of the line's contracted amount


# Who delivers each line (fictional vendors of the kind that bid for such services in Guangzhou).
CONTRACTS = (
    DemoContract("L01", "专责小组法律咨询及案件研判服务", "广东南粤明德律师事务所", "quarterly"),
    DemoContract("L02", "冒用身份虚假注册企业协助调查服务", "广州正衡企业管理咨询有限公司", "quarterly"),
    DemoContract("L03", "南沙区企业跟踪服务", "广州南沙企服通信息咨询有限公司", "quarterly"),
    DemoContract("L04", "商事登记档案辅助整理服务", "广州市档卫士档案管理服务有限公司", "quarterly"),
    DemoContract(
        "L05",
        "商事主体登记业务资料规范化处理技术服务（纸质资料数字化）",
        "广州穗档数字科技服务有限公司",
        "quarterly",
        0.76,
    ),
    DemoContract(
        "L05", "一网通办及全程电子化电子文件数字化加工服务", "广州云卷信息技术有限公司", "quarterly", 0.24
    ),
    DemoContract(
        "L06", "商事登记辅助服务（收件、预审、网办审查）", "广东粤政通人力资源服务有限公司", "monthly"
    ),
    DemoContract(
        "L07",
        "企业综合服务（信息录入、一网通办指引及迁移服务）",
        "广州南沙政企通服务外包有限公司",
        "monthly",
        0.82,
    ),
    DemoContract(
        "L07", "企业邮寄材料签收登记及文书打印服务", "广州市邮政速递物流有限公司南沙分公司", "quarterly", 0.18
    ),
    DemoContract("L08", "企业登记咨询热线及在线咨询服务", "广州声讯通呼叫中心服务有限公司", "monthly"),
    DemoContract("L09", "营业执照正副本（新版）印制采购", "广州市金盾印务有限公司", "batches"),
)
QUARTER_SHARES = (Decimal("0.20"), Decimal("0.25"), Decimal("0.25"))  # Q4 takes the rest: the settlement
MONTHLY_BASE_SHARE = Decimal("0.90")  # the year-end appraisal releases the remaining 10 % in December
BATCH_SHARES = (Decimal("0.50"),)
CN_QUARTERS = "一二三四"

# Evidence of the indicators no module measures yet (manual mode).
MANUAL_EVIDENCE = {
    "2": ("100", "", "呼叫中心系统 2023 年 1–12 月话务统计报表（接听量 ÷ 呼入量）", "呼叫中心话务统计报表"),
    "6": ("100", "", "电子档案查询系统 2023 年调阅登记台账及系统日志汇总", "电子档案查询系统调阅台账"),
    "7": ("100", "", "咨询工单系统 2023 年办结情况统计（已办结 ÷ 受理）", "咨询工单办结统计"),
    "5": (None, "有效", "专责小组 2023 年工作总结及案件处理台账", "专责小组案件处理台账"),
    "8": (None, "是", "登记系统 2023 年与 2022 年平均办理时长对比表", "登记系统办理时长统计"),
    "9": (None, "满意", "被冒用人回访记录汇总表（2023 年）", "被冒用人回访记录"),
    "10": (None, "满意", "咨询热线满意度评价统计（按键评价及回访）", "热线满意度评价统计"),
}
QUALITATIVE_REASONS = {
    "5": (
        "全年处理冒用身份虚假注册举报均按期研判、核查并出具意见，撤销登记决定均已公示，"
        "未发生行政复议被撤销情形。"
    ),
    "8": "受理至决定的平均办理时长较上年缩短，当场办结比例提高，按期办结率保持在 90% 以上。",
    "9": "回访被冒用人均对处理结果表示满意，未收到对处理结果的投诉。",
    "10": "热线按键评价及抽样回访满意度均在 90% 以上，投诉均已按期办结。",
}

REPORT_TEXT = {
    "overview": (
        "广州市南沙区政务服务和数据管理局下设经济服务审批科，牵头负责“经济服务审批”工作，负责权限内市场"
        "监督管理部门相关许可及其服务事项的受理和审批，以及依程序纳入相对集中许可权改革的市场准入类行政许可和"
        "服务事项的办理。本年度项目包含商事登记辅助、企业综合服务、商事登记业务资料规范化处理技术服务、档案"
        "辅助整理、企业跟踪服务、专责小组及冒用身份虚假注册企业协助调查、电话咨询服务、档案场地租赁、印刷营业"
        "执照等工作内容。"
    ),
    "finance_note": "按照合同金额及合同支付方式，在服务商完成约定内容并经验收后进行支出执行。",
    "management": (
        "参照《政府会计准则》《政府会计制度》《南沙区政府采购工作指引（2022年版）》及本局财务、采购、合同管理"
        "办法，对项目的预算管理、资金使用、采购流程、合同明细、实施进度等环节实行全流程督办，做到事前事中事后"
        "全面监管。各合同按月度或季度工作报告验收后支付，支付凭证及验收材料均已归档。"
    ),
    "goals_note": (
        "绩效目标与项目内容相符：优化商事登记工作流程、压缩办件时间；完成企业信息录入及一网通办指引；解决冒用"
        "他人身份信息注册登记带来的突出矛盾；即时解答咨询，确保“事事有回音”；按时完成档案扫描上传；及时掌握"
        "企业诉求；确保企业设立、变更顺利取得证照。可由业务系统计量的指标已接入系统数据，其余指标以佐证材料"
        "计量。"
    ),
    "analysis": (
        "项目整体绩效完成良好。扣分主要因为数量指标“业务服务量”未达到年度指标值：受市场环境、企业投资意愿"
        "等因素影响，实际登记注册的企业数量比预期少。年中已根据监控预警提出该指标的调整申请。"
    ),
    "problems": (
        "一是绩效目标管理易受不确定因素影响，企业投资意愿保守，商事登记业务量不如预期。二是年中监控发现偏差后，"
        "指标调整申请提出较晚，尚未完成审批。三是部分定性指标仍难以量化，依赖人工佐证材料。"
    ),
    "improvements": (
        "一是科学设置绩效目标，数量指标尽可能细化、量化，并以各业务模块的系统数据直接计量。二是按月监控预算"
        "执行与指标进度，预测年末将不达标时及时提出调整申请。三是将定性指标逐步改为可计量的指标，如冒名登记按期"
        "处理率、被冒用人满意度、办理时长同比变化等。"
    ),
}


def _q(value: Decimal, step: Decimal = CENT) -> Decimal:
    return value.quantize(step, rounding=ROUND_HALF_UP)


def _month_start(year: int, month: int) -> dt.date:
    return dt.date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


class PerformanceYear:
    def __init__(self, ctx: DemoContext):
        self.ctx = ctx
        self.rng: random.Random = ctx.rng("performance.year")
        self.authority = ctx.authority
        self.year = ctx.year
        self.today = timezone.localdate()
        self.tz = timezone.get_default_timezone()
        self.rows = 0

    def _at(self, day: dt.date, hour: int = 10) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, self.rng.randrange(60)), tzinfo=self.tz)

    def _users(self) -> bool:
        User = get_user_model()
        staff = User.objects.filter(authorities=self.authority, is_active=True).order_by("pk")
        self.finance = staff.filter(groups__name=ROLE_BY_CODE["finance_officer"].name).first()
        self.manager = staff.filter(groups__name=ROLE_BY_CODE["manager"].name).first()
        return self.finance is not None and self.manager is not None

    # -- budget --
    def _project(self) -> Project:
        seed = catalog.SEED_PROJECT
        project = Project.objects.create(
            authority=self.authority,
            code=seed["code"],
            name=seed["name"],
            fiscal_year=self.year,
            department=seed["department"],
            lead_office=seed["lead_office"],
            period_start=dt.date(self.year, 1, 1),
            period_end=dt.date(self.year, 12, 31),
            initial_budget=seed["initial_budget"],
            adjusted_budget=seed["adjusted_budget"],
            goals="；".join(
                (
                    "优化商事登记工作流程，压缩办件时间，提高审批效率",
                    "完成商事登记企业信息录入及一网通办指引",
                    "解决冒用他人身份信息注册登记带来的突出矛盾和问题",
                    "即时解答咨询，确保“事事有回音”",
                    "按时完成商事登记档案扫描上传",
                    "及时掌握企业诉求，增强服务企业力量",
                    "确保企业设立、变更顺利取得证照",
                )
            )
            + "。",
            status=ProjectStatus.ACTIVE,
        )
        log = PerformanceTransitionLog.objects.create(
            object_type=Project._meta.model_name,
            object_id=project.pk,
            action="activate",
            from_state=ProjectStatus.DRAFT,
            to_state=ProjectStatus.ACTIVE,
            actor=self.manager,
            reason="年初预算批复，项目下达执行",
        )
        # occurred_at is auto_now_add: put the log at the real moment of the story.
        PerformanceTransitionLog.objects.filter(pk=log.pk).update(
            occurred_at=self._at(dt.date(self.year, 1, 6))
        )
        self.rows += 2
        return project

    def _lines(self, project: Project) -> dict[str, BudgetLine]:
        lines = bulk_create_with_history(
            [
                BudgetLine(project=project, code=code, name=name, amount=wan_to_yuan(wan), order=i)
                for i, (code, name, wan) in enumerate(catalog.SEED_LINES, start=1)
            ],
            BudgetLine,
            default_user=self.finance,
        )
        by_code = {line.code: line for line in lines}
        for order, (name, codes) in enumerate(catalog.SEED_COMPONENTS, start=1):
            component = ProjectComponent.objects.create(project=project, name=name, order=order)
            component.lines.set([by_code[c] for c in codes])
        self.rows += len(lines) + len(catalog.SEED_COMPONENTS)
        return by_code

    def _contracts(self, project: Project, lines: dict[str, BudgetLine]) -> list[Contract]:
        contracts = []
        # Procurement saves a little: each line is contracted at 97.5–100 % of its budget (to 100 yuan).
        contracted = {
            code: (line.amount * Decimal(str(self.rng.uniform(0.975, 1.0)))).quantize(
                HUNDRED_YUAN, rounding=ROUND_DOWN
            )
            for code, line in lines.items()
        }
        for seq, spec in enumerate(CONTRACTS, start=1):
            total = contracted[spec.line]
            siblings = [c for c in CONTRACTS if c.line == spec.line]
            if spec is siblings[-1]:
                amount = total - sum((c.amount for c in contracts if c.line.code == spec.line), Decimal(0))
            else:
                amount = (total * Decimal(str(spec.share))).quantize(HUNDRED_YUAN, rounding=ROUND_DOWN)
            signed = dt.date(self.year - 1, 12, 1) + dt.timedelta(days=self.rng.randrange(0, 45))
            contracts.append(
                Contract(
                    project=project,
                    line=lines[spec.line],
                    number=f"NSZS-{self.year}-FW{seq:03d}",
                    title=spec.title,
                    vendor=spec.vendor,
                    amount=amount,
                    signed_on=signed,
                    starts_on=max(signed, dt.date(self.year, 1, 1)),
                    ends_on=dt.date(self.year, 12, 31),
                )
            )
        contracts = bulk_create_with_history(contracts, Contract, default_user=self.finance)
        self.rows += len(contracts)
        return contracts

    def _schedule(self, contract: Contract, kind: str) -> list[PaymentMilestone]:
        """The contract's instalments; the last one takes the remainder so they sum to the amount."""
        year = self.year
        plan: list[tuple[str, dt.date, Decimal | None]] = []
        if kind == "monthly":
            base = _q(contract.amount * MONTHLY_BASE_SHARE / 12)
            for month in range(1, 13):
                # A month's service is accepted with its report early the next month; December is settled
                # before the year closes, with the year-end appraisal.
                due = (
                    dt.date(year, 12, 22) if month == 12 else _month_start(year, month + 1) + dt.timedelta(9)
                )
                label = f"{year}年{month}月服务（月度工作报告、人员考勤及服务记录）"
                if month == 12:
                    label += "及年度考核"
                plan.append((label, due, None if month == 12 else base))
        elif kind == "quarterly":
            for quarter in range(1, 5):
                due = (
                    dt.date(year, 12, 20)
                    if quarter == 4
                    else _month_start(year, 3 * quarter + 1) + dt.timedelta(14)
                )
                share = QUARTER_SHARES[quarter - 1] if quarter < 4 else None
                plan.append(
                    (
                        f"第{CN_QUARTERS[quarter - 1]}季度服务（季度工作报告及成果材料验收）",
                        due,
                        None if share is None else _q(contract.amount * share),
                    )
                )
        else:
            plan = [
                ("第一批营业执照正副本交货验收", dt.date(year, 3, 24), _q(contract.amount * BATCH_SHARES[0])),
                ("第二批营业执照正副本交货验收", dt.date(year, 9, 22), None),
            ]
        fixed = sum((amount for _l, _d, amount in plan if amount is not None), Decimal(0))
        milestones = []
        for order, (label, due, amount) in enumerate(plan, start=1):
            delivered = due - dt.timedelta(days=self.rng.randrange(1, 6))
            milestones.append(
                PaymentMilestone(
                    contract=contract,
                    order=order,
                    deliverable=label,
                    due_on=due,
                    amount=amount if amount is not None else contract.amount - fixed,
                    delivered_on=delivered if delivered <= self.today else None,
                )
            )
        return milestones

    def _payments(self, project: Project, contracts: list[Contract]) -> list[Payment]:
        kinds = {
            f"NSZS-{self.year}-FW{seq:03d}": spec.schedule for seq, spec in enumerate(CONTRACTS, start=1)
        }
        milestones = []
        for contract in contracts:
            milestones += self._schedule(contract, kinds[contract.number])
        milestones = bulk_create_with_history(milestones, PaymentMilestone, default_user=self.finance)
        by_contract = {c.pk: c for c in contracts}
        payments = []
        vouchers: dict[int, int] = {}
        year_end = dt.date(self.year, 12, 29)
        for milestone in milestones:
            if milestone.delivered_on is None:
                continue
            paid = min(milestone.due_on + dt.timedelta(days=self.rng.randrange(0, 12)), year_end)
            if paid > self.today:
                continue
            contract = by_contract[milestone.contract_id]
            vouchers[paid.month] = vouchers.get(paid.month, 0) + 1
            payments.append(
                Payment(
                    project=project,
                    line_id=contract.line_id,
                    contract=contract,
                    milestone=milestone,
                    paid_on=paid,
                    amount=milestone.amount,
                    voucher_number=f"记-{paid:%Y%m}-{vouchers[paid.month] + 10 * paid.month:04d}",
                    description=f"支付《{contract.title}》第{milestone.order}期：{milestone.deliverable}"[
                        :200
                    ],
                    recorded_by=self.finance,
                )
            )
        payments = bulk_create_with_history(payments, Payment, default_user=self.finance)
        self.rows += len(milestones) + len(payments)
        return payments

    # -- indicators --
    def _indicators(self, project: Project) -> list[Indicator]:
        indicators = []
        for order, item in enumerate(catalog.SEED_INDICATORS, start=1):
            key = item.metric_key if _registered(item.metric_key) else ""
            target = item.target_value
            if target is not None and item.unit in COUNTED_UNITS and self.ctx.scale != 1:
                target = max(Decimal(1), _q(target * Decimal(str(self.ctx.scale)), Decimal(1)))
            fields = {
                "project": project,
                **item.definition(order, target),
                "metric_key": key,
                "original_target_value": target,
                "original_target_text": item.target_text,
                "original_weight": item.weight,
            }
            if key:
                fields["data_source"] = get_metric(key).label
            else:
                value, text, note, source = MANUAL_EVIDENCE[item.code]
                fields.update(
                    data_source=source,
                    manual_value=None if value is None else Decimal(value),
                    manual_text=text,
                    evidence_note=note,
                )
                if item.direction == Direction.QUALITATIVE:
                    fields.update(
                        qualitative_tier=QualitativeTier.MET,
                        qualitative_percent=Decimal(100),
                        evaluation_reason=QUALITATIVE_REASONS[item.code],
                        evaluated_by=self.finance,
                    )
            indicators.append(Indicator(**fields))
        indicators = bulk_create_with_history(indicators, Indicator, default_user=self.finance)
        self.rows += len(indicators)
        return indicators

    def _snapshots(self, project: Project) -> dict[int, list[MonthlySnapshot]]:
        """The month-end job of every month of the year so far (services.indicators), run after the fact."""
        snapshots: dict[int, list[MonthlySnapshot]] = {}
        for month in range(1, 13):
            first = _month_start(self.year, month)
            if first > self.today:
                break
            for snapshot in take_monthly_snapshots(project, first):
                snapshots.setdefault(snapshot.indicator_id, []).append(snapshot)
                self.rows += 1
        return snapshots

    def _adjustments(self, indicators: list[Indicator], snapshots: dict[int, list[MonthlySnapshot]]) -> None:
        by_code = {i.code: i for i in indicators}
        # Approved in July: the licence usage target allows the print spoilage the provincial rules accept.
        licence = by_code["4"]
        approved = self._adjustment(
            licence,
            new_target=Decimal("99.5"),
            reason=(
                "营业执照打印存在设备卡纸、套打偏移等不可避免的损耗，"
                "省局对执照纸张损耗率的控制要求为 0.5% 以内，申请将年度指标值由 100% 调整为 99.5%。"
            ),
            requested_on=dt.date(self.year, 7, 10),
        )
        decided = self._at(dt.date(self.year, 7, 14), 15)
        approved.status = AdjustmentStatus.APPROVED
        approved.decided_by = self.manager
        approved.decided_at = decided
        approved.decision_reason = "同意。调整理由充分，与省局执照纸张损耗控制要求一致。"
        approved.save(update_fields=["status", "decided_by", "decided_at", "decision_reason", "updated_at"])
        self._log(approved, "approve", AdjustmentStatus.REQUESTED, AdjustmentStatus.APPROVED, decided, "同意")
        # What the approval service does: the indicator takes the new target, its original_* stay.
        licence.target_value = approved.new_target_value
        licence.save(update_fields=["target_value", "updated_at"])
        # Pending since November: the business volume will miss its target (seed problem 一 and 二).
        volume = by_code["1"]
        ytd = [s.ytd_value for s in snapshots.get(volume.pk, []) if s.month.month == 10]
        if volume.target_value is not None:
            projected = (ytd[0] * 12 / 10) if ytd and ytd[0] else volume.target_value * Decimal("0.85")
            step = Decimal(1000) if projected >= 10_000 else Decimal(10)
            new_target = max(step, (projected / step).quantize(Decimal(1), rounding=ROUND_DOWN) * step)
            self._adjustment(
                volume,
                new_target=new_target,
                reason=(
                    "疫情过后企业投资意愿保守，按 1–10 月累计业务服务量的月均值推算，全年约为年度指标值的"
                    f"{(projected * 100 / volume.target_value).quantize(Decimal(1))}%，申请将年度指标值调整为"
                    f"{new_target:,.0f} 件。"
                ),
                requested_on=dt.date(self.year, 11, 8),
                suggested=True,
            )

    def _adjustment(
        self,
        indicator: Indicator,
        *,
        new_target: Decimal,
        reason: str,
        requested_on: dt.date,
        suggested=False,
    ) -> IndicatorAdjustment:
        adjustment = IndicatorAdjustment.objects.create(
            indicator=indicator,
            old_target_value=indicator.target_value,
            new_target_value=new_target,
            old_weight=indicator.weight,
            new_weight=indicator.weight,
            reason=reason,
            suggested_by_monitoring=suggested,
            requested_by=self.finance,
        )
        IndicatorAdjustment.objects.filter(pk=adjustment.pk).update(created_at=self._at(requested_on, 9))
        self.rows += 1
        return adjustment

    def _log(self, obj, action: str, from_state: str, to_state: str, at: dt.datetime, reason: str) -> None:
        log = PerformanceTransitionLog.objects.create(
            object_type=obj._meta.model_name,
            object_id=obj.pk,
            action=action,
            from_state=from_state,
            to_state=to_state,
            actor=self.manager,
            reason=reason,
        )
        PerformanceTransitionLog.objects.filter(pk=log.pk).update(occurred_at=at)
        self.rows += 1

    def _report(self, project: Project) -> None:
        EvaluationReport.objects.create(
            project=project,
            title=f"{self.year} 年度{project.name}绩效自评报告",
            status=ReportStatus.DRAFT,
            **REPORT_TEXT,
        )
        self.rows += 1

    def run(self) -> int:
        if not self._users():
            self.ctx.log("  没有本机关的财务/绩效人员或科室负责人账号，跳过预算与绩效演示数据")
            return 0
        code = catalog.SEED_PROJECT["code"]
        if Project.objects.filter(authority=self.authority, fiscal_year=self.year, code=code).exists():
            self.ctx.log(f"  {self.year} 年度项目 {code} 已存在，未改动")
            return 0
        project = self._project()
        lines = self._lines(project)
        contracts = self._contracts(project, lines)
        payments = self._payments(project, contracts)
        indicators = self._indicators(project)
        snapshots = self._snapshots(project)
        self._adjustments(indicators, snapshots)
        self._report(project)
        paid = sum((p.amount for p in payments), Decimal(0))
        self.ctx.log(
            f"  项目 {project.name}：预算明细 {len(lines)} 项，合同 {len(contracts)} 份，"
            f"支付 {len(payments)} 笔（{paid / 10000:.2f} 万元），指标 {len(indicators)} 项"
        )
        return self.rows


def _registered(key: str) -> bool:
    if not key:
        return False
    try:
        get_metric(key)
    except KeyError:
        return False
    return True


@register_seeder("performance.year", after=("registration.year", "consultation.year", "archives.year"))
def seed_performance_year(ctx: DemoContext) -> int:
    return PerformanceYear(ctx).run()
