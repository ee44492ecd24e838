"""Forms of the budget pages. They parse input; the rules (limits, closed year, ownership) are in
services.budget, whose ValidationErrors the views put back on the fields."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from bizreg.core.forms import DateRangeMixin
from bizreg.enterprises.forms import BootstrapMixin, ServiceErrorsMixin
from bizreg.performance.models import (
    PROJECT_WORKFLOW,
    BudgetLine,
    Contract,
    PaymentMilestone,
    Project,
    ProjectStatus,
    ReverseRule,
)

DATE = {"widget": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}


def _yuan(label: str, *, required: bool = True) -> forms.DecimalField:
    # No min_value here: the service refuses negatives with its own message, the same for API and page.
    return forms.DecimalField(
        label=label,
        required=required,
        max_digits=14,
        decimal_places=2,
        error_messages={
            "invalid": f"{label}必须是数字。",
            "max_decimal_places": f"{label}最多保留两位小数。",
            "max_digits": f"{label}超出允许范围。",
            "max_whole_digits": f"{label}超出允许范围。",
        },
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


class _DateMessages:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.DateField):
                field.error_messages["invalid"] = "请输入有效日期（YYYY-MM-DD）。"


class ProjectFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label="搜索（编号/名称/单位）", max_length=100, required=False)
    year = forms.TypedChoiceField(label="年度", required=False, coerce=int, empty_value=None)
    status = forms.ChoiceField(
        label="状态", required=False, choices=[("", "全部状态")] + list(ProjectStatus.choices)
    )

    def __init__(self, *args, years=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [("", "全部年度")] + [(y, f"{y} 年") for y in years]


class ProjectForm(_DateMessages, BootstrapMixin, ServiceErrorsMixin, forms.Form):
    code = forms.CharField(label="项目编号", max_length=40)
    name = forms.CharField(label="项目名称", max_length=100)
    fiscal_year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    department = forms.CharField(label="项目单位", max_length=100)
    lead_office = forms.CharField(label="牵头科室", max_length=100, required=False)
    period_start = forms.DateField(label="实施开始日期", **DATE)
    period_end = forms.DateField(label="实施结束日期", **DATE)
    initial_budget = _yuan("年初预算数（元）")
    adjusted_budget = _yuan("调整后预算数（元）")
    reported_execution = _yuan("财务系统已用金额（元）", required=False)
    goals = forms.CharField(label="年度绩效目标", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    budget_weight = forms.DecimalField(
        label="预算执行率分值", max_digits=5, decimal_places=2, initial=Decimal("10")
    )
    reverse_rule = forms.ChoiceField(label="反向指标计分规则", choices=ReverseRule.choices)
    overachievement_threshold = forms.DecimalField(
        label="超额完成提示阈值（实际 ÷ 目标）", max_digits=5, decimal_places=2, initial=Decimal("1.50")
    )
    overachievement_deduction = forms.BooleanField(label="超额过多按偏离度扣分", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reported_execution"].help_text = "财务系统“单位指标已用金额”；填写后作为全年执行数"

    @classmethod
    def initial_from(cls, project: Project) -> dict:
        return {name: getattr(project, name) for name in cls.base_fields}


class LineForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    code = forms.CharField(label="明细编号", max_length=20)
    name = forms.CharField(label="明细名称", max_length=100)
    amount = _yuan("预算金额（元）")
    order = forms.IntegerField(label="顺序", min_value=0, max_value=32767, required=False, initial=0)


class ComponentForm(BootstrapMixin, ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label="子项目名称", max_length=100)
    order = forms.IntegerField(label="顺序", min_value=0, max_value=32767, required=False, initial=0)
    lines = forms.ModelMultipleChoiceField(
        label="资金来源（预算明细）",
        queryset=BudgetLine.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lines"].queryset = BudgetLine.objects.filter(project=project)
        self.fields["lines"].widget.attrs.pop("class", None)
        self.fields["lines"].error_messages["invalid_choice"] = "所选预算明细不属于本项目。"


class ContractForm(_DateMessages, BootstrapMixin, ServiceErrorsMixin, forms.Form):
    line = forms.ModelChoiceField(label="预算明细", queryset=BudgetLine.objects.none())
    number = forms.CharField(label="合同编号", max_length=50)
    title = forms.CharField(label="合同名称", max_length=150)
    vendor = forms.CharField(label="供应商", max_length=150)
    amount = _yuan("合同金额（元）")
    signed_on = forms.DateField(label="签订日期", **DATE)
    starts_on = forms.DateField(label="服务开始日期", **DATE)
    ends_on = forms.DateField(label="服务结束日期", **DATE)

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = BudgetLine.objects.filter(project=project)
        self.fields["line"].error_messages["invalid_choice"] = "所选预算明细不属于本项目。"

    @classmethod
    def initial_from(cls, contract: Contract) -> dict:
        return {name: getattr(contract, name) for name in cls.base_fields}


class MilestoneForm(_DateMessages, BootstrapMixin, ServiceErrorsMixin, forms.Form):
    order = forms.IntegerField(label="期次", min_value=1, max_value=32767)
    deliverable = forms.CharField(label="交付内容", max_length=200)
    due_on = forms.DateField(label="计划支付日期", **DATE)
    amount = _yuan("计划金额（元）")
    delivered_on = forms.DateField(label="验收日期", required=False, **DATE)

    @classmethod
    def initial_from(cls, milestone: PaymentMilestone) -> dict:
        return {name: getattr(milestone, name) for name in cls.base_fields}


class PaymentForm(_DateMessages, BootstrapMixin, ServiceErrorsMixin, forms.Form):
    paid_on = forms.DateField(label="支付日期", **DATE)
    amount = _yuan("支付金额（元）")
    line = forms.ModelChoiceField(label="预算明细", queryset=BudgetLine.objects.none())
    contract = forms.ModelChoiceField(
        label="合同（可选）", queryset=Contract.objects.none(), required=False, empty_label="无合同"
    )
    milestone = forms.ModelChoiceField(
        label="支付计划（可选）", queryset=PaymentMilestone.objects.none(), required=False, empty_label="无"
    )
    voucher_number = forms.CharField(label="凭证号", max_length=50, required=False)
    description = forms.CharField(label="摘要", max_length=200, required=False)
    evidence = forms.FileField(label="凭证附件（PDF/图片/Office，≤20 MB）", required=False)

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = BudgetLine.objects.filter(project=project)
        self.fields["contract"].queryset = Contract.objects.filter(project=project)
        self.fields["milestone"].queryset = PaymentMilestone.objects.filter(
            contract__project=project
        ).select_related("contract")
        for name, label in (("line", "预算明细"), ("contract", "合同"), ("milestone", "支付计划")):
            self.fields[name].error_messages["invalid_choice"] = f"所选{label}不属于本项目。"


class PaymentFilterForm(BootstrapMixin, DateRangeMixin, forms.Form):
    q = forms.CharField(label="搜索（凭证号/摘要）", max_length=100, required=False)
    line = forms.ModelChoiceField(
        label="预算明细", queryset=BudgetLine.objects.none(), required=False, empty_label="全部明细"
    )
    contract = forms.ModelChoiceField(
        label="合同", queryset=Contract.objects.none(), required=False, empty_label="全部合同"
    )
    date_from = forms.DateField(label="起始日期", required=False, **DATE)
    date_to = forms.DateField(label="截止日期", required=False, **DATE)

    def __init__(self, *args, project: Project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = BudgetLine.objects.filter(project=project)
        self.fields["contract"].queryset = Contract.objects.filter(project=project)


class TransitionForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, t.label) for a, t in PROJECT_WORKFLOW.transitions.items()])
    reason = forms.CharField(label="理由", max_length=1000, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].error_messages["invalid_choice"] = "未知的操作。"


class BudgetImportForm(BootstrapMixin, forms.Form):
    file = forms.FileField(label="预算表（.xlsx）")
