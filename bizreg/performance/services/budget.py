"""Writes of budget projects, lines, components, contracts, payment schedules and payments.

Every write runs in one transaction and refuses bad input with a ValidationError carrying a Chinese
message (a field dict where a field is at fault); a refused write changes nothing. Limit checks
(payments against a line's budget or a contract's amount) lock the rows they compare against, so two
concurrent payments cannot both pass a check that only one of them fits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum

from bizreg.core.money import CENT, format_wan, to_decimal, wan_to_yuan
from bizreg.performance.models import (
    PROJECT_WORKFLOW,
    BudgetLine,
    Contract,
    Payment,
    PaymentMilestone,
    Project,
    ProjectComponent,
    ReverseRule,
)
from bizreg.performance.services.common import check_evidence_file, ensure_year_open, record_transition
from bizreg.performance.services.indicators import ensure_weights_total_100

ZERO = Decimal("0")
MAX_AMOUNT = Decimal("999999999999.99")  # MONEY: 14 digits, 2 decimals


# --- input checks ---------------------------------------------------------------------------------------


def clean_amount(value: Any, field_name: str, label: str, *, allow_zero: bool = True) -> Decimal:
    """A yuan amount from user input: numeric, not negative (nor zero unless allowed), at most 2 decimals."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError({field_name: f"请填写{label}。"})
    if isinstance(value, bool):
        raise ValidationError({field_name: f"{label}必须是数字。"})
    try:
        amount = to_decimal(value)
    except ValueError:
        raise ValidationError({field_name: f"{label}必须是数字，收到“{value}”。"}) from None
    if amount < 0:
        raise ValidationError({field_name: f"{label}不能为负数。"})
    if amount == 0 and not allow_zero:
        raise ValidationError({field_name: f"{label}必须大于 0。"})
    if amount != amount.quantize(CENT):
        raise ValidationError({field_name: f"{label}最多保留两位小数（单位：元）。"})
    if amount > MAX_AMOUNT:
        raise ValidationError({field_name: f"{label}超出允许范围。"})
    return amount.quantize(CENT)


def _sum(queryset, field_name: str = "amount") -> Decimal:
    return queryset.aggregate(total=Sum(field_name))["total"] or ZERO


def _locked_project(project: Project) -> Project:
    return Project.objects.select_for_update().get(pk=project.pk)


# --- projects -------------------------------------------------------------------------------------------

PROJECT_FIELDS = (
    "code",
    "name",
    "fiscal_year",
    "department",
    "lead_office",
    "period_start",
    "period_end",
    "initial_budget",
    "adjusted_budget",
    "reported_execution",
    "goals",
    "budget_weight",
    "reverse_rule",
    "overachievement_threshold",
    "overachievement_deduction",
)


def _check_project_values(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned = dict(values)
    for name, label in (
        ("initial_budget", "年初预算数（元）"),
        ("adjusted_budget", "调整后预算数（元）"),
    ):
        try:
            cleaned[name] = clean_amount(values.get(name), name, label)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if values.get("reported_execution") not in (None, ""):
        try:
            cleaned["reported_execution"] = clean_amount(
                values["reported_execution"], "reported_execution", "财务系统已用金额（元）"
            )
        except ValidationError as exc:
            errors.update(exc.message_dict)
    else:
        cleaned["reported_execution"] = None
    start, end, year = values.get("period_start"), values.get("period_end"), values.get("fiscal_year")
    if start and end and start > end:
        errors.setdefault("period_end", []).append("实施结束日期不能早于开始日期。")
    if year and start and end and not (start.year <= year <= end.year):
        errors.setdefault("fiscal_year", []).append("年度应在项目实施期内。")
    weight = values.get("budget_weight")
    if weight is not None and not (ZERO <= Decimal(weight) <= Decimal(100)):
        errors.setdefault("budget_weight", []).append("预算执行率分值应在 0 到 100 之间。")
    threshold = values.get("overachievement_threshold")
    if threshold is not None and Decimal(threshold) < 1:
        errors.setdefault("overachievement_threshold", []).append("超额完成提示阈值不能小于 1。")
    if values.get("reverse_rule") and values["reverse_rule"] not in ReverseRule.values:
        errors.setdefault("reverse_rule", []).append("未知的反向指标计分规则。")
    if errors:
        raise ValidationError(errors)
    return cleaned


def _check_unique_code(project: Project) -> None:
    clash = Project.objects.filter(
        authority_id=project.authority_id, fiscal_year=project.fiscal_year, code=project.code
    ).exclude(pk=project.pk)
    if clash.exists():
        raise ValidationError({"code": f"{project.fiscal_year} 年度已有项目编号为“{project.code}”的项目。"})


def project_create(*, authority, actor, **values: Any) -> Project:
    unknown = set(values) - set(PROJECT_FIELDS)
    if unknown:
        raise TypeError(f"unknown project fields: {sorted(unknown)}")
    cleaned = _check_project_values(values)
    with transaction.atomic():
        project = Project(authority=authority, **cleaned)
        _check_unique_code(project)
        project.full_clean(exclude=["authority"], validate_constraints=False)
        project.save()
    return project


def project_update(*, project: Project, actor, **values: Any) -> Project:
    unknown = set(values) - set(PROJECT_FIELDS)
    if unknown:
        raise TypeError(f"unknown project fields: {sorted(unknown)}")
    with transaction.atomic():
        project = _locked_project(project)
        ensure_year_open(project, "修改项目信息")
        merged = {name: getattr(project, name) for name in PROJECT_FIELDS} | values
        cleaned = _check_project_values(merged)
        for name, value in cleaned.items():
            setattr(project, name, value)
        _check_unique_code(project)
        project.full_clean(exclude=["authority"], validate_constraints=False)
        project.save()
    return project


def project_transition(project: Project, action: str, actor, reason: str = "") -> Project:
    """下达执行 / 年度结项 / 撤销结项, checked by PROJECT_WORKFLOW and logged with the reason.

    Raises TransitionNotAllowed (wrong state) or PermissionDenied (role lacks the permission).
    """
    with transaction.atomic():
        locked = _locked_project(project)
        step = PROJECT_WORKFLOW.check(state=locked.status, action=action, user=actor)
        reason = (reason or "").strip()
        if action == "reopen" and not reason:
            raise ValidationError({"reason": "撤销结项须说明理由。"})
        if action == "activate":
            # A year is only set going with a scoring frame that adds up (weights total 100).
            ensure_weights_total_100(locked)
        previous = locked.status
        locked.status = step.target
        locked.save(update_fields=["status", "updated_at"])
        record_transition(
            obj=locked, action=action, from_state=previous, to_state=step.target, actor=actor, reason=reason
        )
    project.status = locked.status
    return locked


# --- budget lines ---------------------------------------------------------------------------------------


def _check_line_code(project: Project, code: str, exclude_pk: int | None = None) -> None:
    clash = BudgetLine.objects.filter(project=project, code=code)
    if exclude_pk:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError({"code": f"本项目已有明细编号“{code}”。"})


def _check_text(values: dict[str, Any], name: str, label: str) -> str:
    text = (values.get(name) or "").strip()
    if not text:
        raise ValidationError({name: f"请填写{label}。"})
    return text


def line_create(*, project: Project, actor, code: str, name: str, amount: Any, order: int = 0) -> BudgetLine:
    values = {"code": code, "name": name}
    code, name = _check_text(values, "code", "明细编号"), _check_text(values, "name", "明细名称")
    amount = clean_amount(amount, "amount", "预算金额（元）")
    with transaction.atomic():
        project = _locked_project(project)
        ensure_year_open(project, "新增预算明细")
        _check_line_code(project, code)
        line = BudgetLine(project=project, code=code, name=name, amount=amount, order=order or 0)
        line.full_clean(validate_constraints=False)
        line.save()
    return line


def line_update(
    *, line: BudgetLine, actor, code: str, name: str, amount: Any, order: int | None = None
) -> BudgetLine:
    values = {"code": code, "name": name}
    code, name = _check_text(values, "code", "明细编号"), _check_text(values, "name", "明细名称")
    amount = clean_amount(amount, "amount", "预算金额（元）")
    with transaction.atomic():
        project = _locked_project(line.project)
        ensure_year_open(project, "修改预算明细")
        # Locked before the comparison: a payment in flight waits for this row, then sees the new amount.
        line = BudgetLine.objects.select_for_update().get(pk=line.pk)
        _check_line_code(project, code, exclude_pk=line.pk)
        paid = _sum(line.payments.all())
        if amount < paid:
            raise ValidationError(
                {"amount": f"预算金额不能低于该明细已支付的 {format_wan(paid)}（{paid:,.2f} 元）。"}
            )
        line.code, line.name, line.amount = code, name, amount
        if order is not None:
            line.order = order
        line.full_clean(validate_constraints=False)
        line.save()
    return line


def line_delete(*, line: BudgetLine, actor) -> None:
    with transaction.atomic():
        project = _locked_project(line.project)
        ensure_year_open(project, "删除预算明细")
        if line.payments.exists() or line.contracts.exists():
            raise ValidationError("该明细已有合同或支付记录，不能删除。")
        line.delete()


# --- components -----------------------------------------------------------------------------------------


def _check_component_lines(project: Project, lines) -> list[BudgetLine]:
    lines = list(lines or [])
    foreign = [line for line in lines if line.project_id != project.pk]
    if foreign:
        raise ValidationError({"lines": "所选预算明细不属于本项目。"})
    return lines


def component_create(*, project: Project, actor, name: str, order: int = 0, lines=()) -> ProjectComponent:
    name = _check_text({"name": name}, "name", "子项目名称")
    lines = _check_component_lines(project, lines)
    with transaction.atomic():
        project = _locked_project(project)
        ensure_year_open(project, "新增子项目")
        if ProjectComponent.objects.filter(project=project, name=name).exists():
            raise ValidationError({"name": f"本项目已有子项目“{name}”。"})
        component = ProjectComponent.objects.create(project=project, name=name, order=order or 0)
        component.lines.set(lines)
    return component


def component_update(
    *, component: ProjectComponent, actor, name: str, order: int = 0, lines=()
) -> ProjectComponent:
    name = _check_text({"name": name}, "name", "子项目名称")
    lines = _check_component_lines(component.project, lines)
    with transaction.atomic():
        project = _locked_project(component.project)
        ensure_year_open(project, "修改子项目")
        if ProjectComponent.objects.filter(project=project, name=name).exclude(pk=component.pk).exists():
            raise ValidationError({"name": f"本项目已有子项目“{name}”。"})
        component.name, component.order = name, order or 0
        component.save()
        component.lines.set(lines)
    return component


# --- contracts and their payment schedule ---------------------------------------------------------------


def _check_contract_values(project: Project, values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned = dict(values)
    for name, label in (("number", "合同编号"), ("title", "合同名称"), ("vendor", "供应商")):
        try:
            cleaned[name] = _check_text(values, name, label)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    try:
        cleaned["amount"] = clean_amount(values.get("amount"), "amount", "合同金额（元）")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    line = values.get("line")
    if line is None or line.project_id != project.pk:
        errors.setdefault("line", []).append("请选择本项目的预算明细。")
    starts, ends = values.get("starts_on"), values.get("ends_on")
    if starts and ends and starts > ends:
        errors.setdefault("ends_on", []).append("服务结束日期不能早于开始日期。")
    for name, label in (
        ("signed_on", "签订日期"),
        ("starts_on", "服务开始日期"),
        ("ends_on", "服务结束日期"),
    ):
        if not values.get(name):
            errors.setdefault(name, []).append(f"请填写{label}。")
    if errors:
        raise ValidationError(errors)
    return cleaned


CONTRACT_FIELDS = ("line", "number", "title", "vendor", "amount", "signed_on", "starts_on", "ends_on")


def contract_create(*, project: Project, actor, **values: Any) -> Contract:
    cleaned = _check_contract_values(project, {k: values.get(k) for k in CONTRACT_FIELDS})
    with transaction.atomic():
        project = _locked_project(project)
        ensure_year_open(project, "新增合同")
        if Contract.objects.filter(project=project, number=cleaned["number"]).exists():
            raise ValidationError({"number": f"本项目已有合同编号“{cleaned['number']}”。"})
        contract = Contract(project=project, **cleaned)
        contract.full_clean(validate_constraints=False)
        contract.save()
    return contract


def contract_update(*, contract: Contract, actor, **values: Any) -> Contract:
    merged = {k: getattr(contract, k) for k in CONTRACT_FIELDS} | {
        k: v for k, v in values.items() if k in CONTRACT_FIELDS
    }
    cleaned = _check_contract_values(contract.project, merged)
    with transaction.atomic():
        project = _locked_project(contract.project)
        ensure_year_open(project, "修改合同")
        contract = Contract.objects.select_for_update().get(pk=contract.pk)
        if (
            Contract.objects.filter(project=project, number=cleaned["number"])
            .exclude(pk=contract.pk)
            .exists()
        ):
            raise ValidationError({"number": f"本项目已有合同编号“{cleaned['number']}”。"})
        paid = _sum(contract.payments.all())
        if cleaned["amount"] < paid:
            raise ValidationError({"amount": f"合同金额不能低于已支付的 {paid:,.2f} 元。"})
        scheduled = _sum(contract.milestones.all())
        if cleaned["amount"] < scheduled:
            raise ValidationError({"amount": f"合同金额不能低于支付计划合计 {scheduled:,.2f} 元。"})
        if cleaned["line"].pk != contract.line_id and contract.payments.exists():
            raise ValidationError({"line": "合同已有支付记录，不能改到其他预算明细。"})
        for name, value in cleaned.items():
            setattr(contract, name, value)
        contract.full_clean(validate_constraints=False)
        contract.save()
    return contract


def milestone_save(
    *,
    contract: Contract,
    actor,
    order: int,
    deliverable: str,
    due_on: dt.date,
    amount: Any,
    delivered_on: dt.date | None = None,
    milestone: PaymentMilestone | None = None,
) -> PaymentMilestone:
    """Add (milestone=None) or change one instalment; the schedule may not total more than the contract."""
    deliverable = _check_text({"deliverable": deliverable}, "deliverable", "交付内容")
    amount = clean_amount(amount, "amount", "计划金额（元）")
    if not order or int(order) < 1:
        raise ValidationError({"order": "期次应为正整数。"})
    if not due_on:
        raise ValidationError({"due_on": "请填写计划支付日期。"})
    with transaction.atomic():
        project = _locked_project(contract.project)
        ensure_year_open(project, "修改支付计划")
        contract = Contract.objects.select_for_update().get(pk=contract.pk)
        others = contract.milestones.all()
        if milestone is not None:
            if milestone.contract_id != contract.pk:
                raise ValidationError("该支付计划不属于此合同。")
            others = others.exclude(pk=milestone.pk)
        if others.filter(order=order).exists():
            raise ValidationError({"order": f"第 {order} 期已存在。"})
        scheduled = _sum(others) + amount
        if scheduled > contract.amount:
            raise ValidationError(
                {
                    "amount": f"支付计划合计 {scheduled:,.2f} 元将超过合同金额 {contract.amount:,.2f} 元"
                    f"（尚可安排 {contract.amount - _sum(others):,.2f} 元）。"
                }
            )
        if milestone is not None:
            paid = _sum(milestone.payments.all())
            if amount < paid:
                raise ValidationError({"amount": f"计划金额不能低于该期已支付的 {paid:,.2f} 元。"})
        target = milestone or PaymentMilestone(contract=contract)
        target.order, target.deliverable, target.due_on = int(order), deliverable, due_on
        target.amount, target.delivered_on = amount, delivered_on
        target.full_clean(validate_constraints=False)
        target.save()
    return target


# --- payments -------------------------------------------------------------------------------------------


def payment_create(
    *,
    project: Project,
    actor,
    paid_on: dt.date,
    amount: Any,
    line: BudgetLine,
    contract: Contract | None = None,
    milestone: PaymentMilestone | None = None,
    voucher_number: str = "",
    description: str = "",
    evidence=None,
) -> Payment:
    """Record a payment; refused (nothing saved) when it would overrun the line or the contract."""
    amount = clean_amount(amount, "amount", "支付金额（元）", allow_zero=False)
    if not isinstance(paid_on, dt.date):
        raise ValidationError({"paid_on": "请填写有效的支付日期。"})
    if line is None or line.project_id != project.pk:
        raise ValidationError({"line": "所选预算明细不属于本项目。"})
    if contract is not None:
        if contract.project_id != project.pk:
            raise ValidationError({"contract": "所选合同不属于本项目。"})
        if contract.line_id != line.pk:
            raise ValidationError({"contract": f"合同“{contract.number}”不属于预算明细“{line}”。"})
    if milestone is not None and (contract is None or milestone.contract_id != contract.pk):
        raise ValidationError({"milestone": "所选支付计划不属于所选合同。"})
    evidence_sha256 = check_evidence_file(evidence) if evidence else ""
    with transaction.atomic():
        # Lock order project → line → contract, the same in every write, so racing writers queue, not
        # deadlock; the sums below are read while holding the locks.
        project = _locked_project(project)
        ensure_year_open(project, "登记支付")
        if paid_on.year != project.fiscal_year:
            raise ValidationError(
                {"paid_on": f"支付日期 {paid_on:%Y-%m-%d} 不在项目年度 {project.fiscal_year} 年内。"}
            )
        line = BudgetLine.objects.select_for_update().get(pk=line.pk)
        line_paid = _sum(line.payments.all())
        if line_paid + amount > line.amount:
            raise ValidationError(
                {
                    "amount": f"支付后预算明细“{line.name}”累计支付 {line_paid + amount:,.2f} 元，"
                    f"超过其预算 {line.amount:,.2f} 元（尚可支付 {line.amount - line_paid:,.2f} 元）。"
                }
            )
        if contract is not None:
            contract = Contract.objects.select_for_update().get(pk=contract.pk)
            contract_paid = _sum(contract.payments.all())
            if contract_paid + amount > contract.amount:
                raise ValidationError(
                    {
                        "amount": f"支付后合同“{contract.number}”累计支付 {contract_paid + amount:,.2f} 元，"
                        f"超过合同金额 {contract.amount:,.2f} 元"
                        f"（尚可支付 {contract.amount - contract_paid:,.2f} 元）。"
                    }
                )
        payment = Payment(
            project=project,
            line=line,
            contract=contract,
            milestone=milestone,
            paid_on=paid_on,
            amount=amount,
            voucher_number=(voucher_number or "").strip(),
            description=(description or "").strip(),
            evidence_sha256=evidence_sha256,
            recorded_by=actor,
        )
        if evidence:
            payment.evidence = evidence
        payment.full_clean(exclude=["evidence"], validate_constraints=False)
        payment.save()
    return payment


# --- Excel budget sheet ---------------------------------------------------------------------------------

# docs/performance-budget-import-format.md describes the sheet.
COLUMN_CODE = "明细编号"
COLUMN_NAME = "明细名称"
COLUMN_AMOUNT = "预算金额（万元）"
COLUMN_COMPONENT = "子项目"
REQUIRED_COLUMNS = (COLUMN_CODE, COLUMN_NAME, COLUMN_AMOUNT)
MAX_IMPORT_ROWS = 2000
MAX_IMPORT_BYTES = 5 * 1024 * 1024


def _header_key(value: Any) -> str:
    # Staff type the parentheses half- or full-width and sometimes with spaces.
    return str(value or "").strip().replace(" ", "").replace("(", "（").replace(")", "）")


@dataclass
class RowError:
    row: int
    message: str

    def __str__(self) -> str:
        return f"第 {self.row} 行：{self.message}"


@dataclass
class ImportedLine:
    row: int
    code: str
    name: str
    amount: Decimal  # yuan
    component: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    components_created: int = 0
    lines: list[ImportedLine] = field(default_factory=list)


class BudgetImportError(ValidationError):
    """The sheet was refused; `row_errors` lists each bad row with its reason (nothing was saved)."""

    def __init__(self, message: str, row_errors: list[RowError] | None = None):
        self.row_errors = row_errors or []
        messages = [message] + [str(e) for e in self.row_errors]
        super().__init__(messages)


def parse_budget_sheet(upload) -> list[ImportedLine]:
    """Read the first sheet; raise BudgetImportError listing every bad row (or the file/column problem)."""
    from openpyxl import load_workbook

    suffix = PurePath(getattr(upload, "name", "") or "").suffix.lower()
    if suffix != ".xlsx":
        raise BudgetImportError(
            f"文件类型“{suffix or '无扩展名'}”不支持，请上传 Excel 2007 及以上的 .xlsx 文件。"
        )
    if getattr(upload, "size", 0) and upload.size > MAX_IMPORT_BYTES:
        raise BudgetImportError("文件过大，预算表不应超过 5 MB。")
    try:
        workbook = load_workbook(upload, read_only=True, data_only=True)
    except Exception:  # openpyxl raises zip, XML and key errors for files that are not workbooks
        raise BudgetImportError("无法读取该文件：不是有效的 .xlsx 工作簿。") from None
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        keys = [_header_key(value) for value in (header or ())]
        missing = [name for name in REQUIRED_COLUMNS if name not in keys]
        if missing:
            raise BudgetImportError(
                f"第 1 行缺少列：{'、'.join(missing)}。"
                f"表头应为：{'、'.join(REQUIRED_COLUMNS)}（{COLUMN_COMPONENT}可选）。"
            )
        index = {name: keys.index(name) for name in (*REQUIRED_COLUMNS, COLUMN_COMPONENT) if name in keys}
        lines: list[ImportedLine] = []
        errors: list[RowError] = []
        seen: dict[str, int] = {}
        for number, row in enumerate(rows, start=2):
            if number > MAX_IMPORT_ROWS + 1:
                raise BudgetImportError(f"行数超过 {MAX_IMPORT_ROWS} 行，请拆分后导入。")

            def cell(name: str, row=row) -> Any:
                position = index.get(name)
                return row[position] if position is not None and position < len(row) else None

            values = [cell(name) for name in index]
            if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                continue  # blank rows between groups are allowed
            code = str(cell(COLUMN_CODE) or "").strip()
            name = str(cell(COLUMN_NAME) or "").strip()
            component = str(cell(COLUMN_COMPONENT) or "").strip()
            raw = cell(COLUMN_AMOUNT)
            problems = []
            if not code:
                problems.append("明细编号为空")
            elif len(code) > 20:
                problems.append("明细编号超过 20 个字符")
            elif code in seen:
                problems.append(f"明细编号“{code}”与第 {seen[code]} 行重复")
            if not name:
                problems.append("明细名称为空")
            elif len(name) > 100:
                problems.append("明细名称超过 100 个字符")
            if len(component) > 100:
                problems.append("子项目名称超过 100 个字符")
            amount = None
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                problems.append("预算金额为空")
            elif isinstance(raw, bool):
                problems.append(f"预算金额“{raw}”不是数字")
            else:
                try:
                    wan = to_decimal(raw)
                except ValueError:
                    problems.append(f"预算金额“{raw}”不是数字")
                else:
                    if wan < 0:
                        problems.append("预算金额不能为负数")
                    else:
                        try:
                            amount = wan_to_yuan(wan)
                        except (InvalidOperation, ValueError):
                            problems.append(f"预算金额“{raw}”不是有效金额")
                        else:
                            if amount > MAX_AMOUNT:
                                problems.append("预算金额超出允许范围")
                                amount = None
            if code and code not in seen:
                seen[code] = number
            if problems:
                errors.append(RowError(number, "；".join(problems) + "。"))
            else:
                lines.append(ImportedLine(number, code, name, amount, component))
        if errors:
            raise BudgetImportError(f"预算表有 {len(errors)} 行错误，未导入任何数据：", errors)
        if not lines:
            raise BudgetImportError("预算表没有数据行。")
        return lines
    finally:
        workbook.close()


def budget_import(*, project: Project, actor, upload) -> ImportResult:
    """Create or update the project's lines from the sheet (matched by 明细编号), all or nothing.

    Lines not in the sheet are kept (they may carry payments); a component named in 子项目 is created
    when missing and the line is added to it.
    """
    parsed = parse_budget_sheet(upload)
    result = ImportResult(lines=parsed)
    with transaction.atomic():
        project = _locked_project(project)
        ensure_year_open(project, "导入预算表")
        existing = {
            line.code: line for line in BudgetLine.objects.select_for_update().filter(project=project)
        }
        paid = dict(
            Payment.objects.filter(project=project)
            .values_list("line_id")
            .annotate(total=Sum("amount"))
            .order_by()
        )
        errors = []
        for item in parsed:
            line = existing.get(item.code)
            if line is not None and item.amount < paid.get(line.pk, ZERO):
                errors.append(
                    RowError(
                        item.row,
                        f"预算金额 {item.amount:,.2f} 元低于该明细已支付的 {paid[line.pk]:,.2f} 元。",
                    )
                )
        if errors:
            raise BudgetImportError(f"预算表有 {len(errors)} 行错误，未导入任何数据：", errors)
        components = {c.name: c for c in ProjectComponent.objects.filter(project=project)}
        for order, item in enumerate(parsed, start=1):
            line = existing.get(item.code)
            if line is None:
                line = BudgetLine.objects.create(
                    project=project, code=item.code, name=item.name, amount=item.amount, order=order
                )
                result.created += 1
            else:
                line.name, line.amount, line.order = item.name, item.amount, order
                line.save()
                result.updated += 1
            if item.component:
                component = components.get(item.component)
                if component is None:
                    component = ProjectComponent.objects.create(
                        project=project, name=item.component, order=len(components) + 1
                    )
                    components[item.component] = component
                    result.components_created += 1
                component.lines.add(line)
    return result
