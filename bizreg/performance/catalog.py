"""The seed's project: its budget lines, sub-projects and ten indicators, with the metric each one can be
measured by. Used by the golden fixture (seed_2023), the demo year and the wiring of published metrics.

Metric keys of modules not built yet (consultation, archives, investigations) are listed so the wiring
picks them up the day their module registers them; until then those indicators stay in manual mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bizreg.performance.models import Direction, Level1, Level2

SEED_PROJECT = {
    "code": "JJFWSP",
    "name": "经济服务审批工作经费",
    "fiscal_year": 2023,
    "department": "广州市南沙区政务服务和数据管理局",
    "lead_office": "经济服务审批科",
    "initial_budget": Decimal("9431000.00"),  # 943.1 万元
    "adjusted_budget": Decimal("9431000.00"),
    "reported_execution": Decimal("9430700.00"),  # 单位指标已用金额 943.07 万元
}

# Section 二, in its order: (code, name, 万元). They sum to 943.0 万元.
SEED_LINES = [
    ("L01", "南沙区处理被冒用身份信息办理虚假注册登记专责小组项目", Decimal("26")),
    ("L02", "冒用身份虚假注册企业协助调查项目", Decimal("89")),
    ("L03", "企业跟踪服务项目", Decimal("72.5")),
    ("L04", "档案辅助整理项目", Decimal("87.5")),
    ("L05", "商事主体登记业务资料规范化处理技术服务项目", Decimal("208.3")),
    ("L06", "商事登记辅助项目", Decimal("169.7")),
    ("L07", "企业综合服务项目", Decimal("187.7")),
    ("L08", "电话咨询服务项目", Decimal("72.4")),
    ("L09", "营业执照正副本采购", Decimal("29.9")),
]

# Section 一(一): the sub-projects the overview names, with the lines that fund them. 档案场地租赁项目 has
# none — the seed's own gap.
SEED_COMPONENTS = [
    ("商事登记辅助项目", ["L06"]),
    ("企业综合服务项目", ["L07"]),
    ("商事登记业务资料规范化处理技术服务项目", ["L05"]),
    ("档案辅助整理项目", ["L04"]),
    ("企业跟踪服务项目", ["L03"]),
    ("专责小组及冒用身份虚假注册企业协助调查项目", ["L01", "L02"]),
    ("电话咨询服务项目", ["L08"]),
    ("档案场地租赁项目", []),
    ("印刷营业执照", ["L09"]),
]


@dataclass(frozen=True)
class CatalogIndicator:
    code: str
    name: str
    level1: str
    level2: str
    unit: str
    direction: str
    target_value: Decimal | None
    target_text: str
    weight: Decimal
    metric_key: str  # the key that measures it ("" when no module can)
    # For a qualitative indicator that could be a number: the metric, direction and target that would
    # measure it (the lint's suggestion).
    numeric_alternative: tuple[str, str, Decimal] | None = None

    def definition(self, order: int, target_value: Decimal | None = None) -> dict:
        """The indicator's defining fields (frame, name, target, weight), as the services and models take
        them; `target_value` replaces the seed's target (the demo scales counted targets)."""
        return {
            "code": self.code,
            "order": order,
            "level1": self.level1,
            "level2": self.level2,
            "name": self.name,
            "unit": self.unit,
            "direction": self.direction,
            "target_value": self.target_value if target_value is None else target_value,
            "target_text": self.target_text,
            "weight": self.weight,
        }


SEED_INDICATORS = [
    CatalogIndicator(
        "1",
        "业务服务量",
        Level1.OUTPUT,
        Level2.QUANTITY,
        "件",
        Direction.AT_LEAST,
        Decimal(382000),
        "",
        Decimal(10),
        "registration.business_volume",
    ),
    CatalogIndicator(
        "2",
        "咨询热线接听率",
        Level1.OUTPUT,
        Level2.QUALITY,
        "%",
        Direction.AT_LEAST,
        Decimal(100),
        "",
        Decimal("7.5"),
        "consultation.hotline_answer_rate",
    ),
    CatalogIndicator(
        "3",
        "完成商事登记企业信息录入及完成一网通办指引及协助企业录入份数",
        Level1.OUTPUT,
        Level2.QUANTITY,
        "份",
        Direction.AT_LEAST,
        Decimal(156000),
        "",
        Decimal(10),
        "registration.info_entries_and_guidance",
    ),
    CatalogIndicator(
        "4",
        "营业执照使用率",
        Level1.OUTPUT,
        Level2.QUALITY,
        "%",
        Direction.AT_LEAST,
        Decimal(100),
        "",
        Decimal("7.5"),
        "registration.licence_usage_rate",
    ),
    CatalogIndicator(
        "5",
        "解决冒用他人身份信息注册登记带来的一系列突出矛盾和问题，处理冒用他人身份信息办理虚假注册登记的情况",
        Level1.BENEFIT,
        Level2.SOCIAL,
        "",
        Direction.QUALITATIVE,
        None,
        "有效",
        Decimal(15),
        "",
        ("investigations.closed_within_deadline_rate", Direction.AT_LEAST, Decimal(95)),
    ),
    CatalogIndicator(
        "6",
        "为注册登记、各业务部门和企业通过查询服务系统实时远程调阅电子扫描档案提供登记资料查询服务率",
        Level1.OUTPUT,
        Level2.QUALITY,
        "%",
        Direction.AT_LEAST,
        Decimal(100),
        "",
        Decimal("7.5"),
        "archives.query_service_rate",
    ),
    CatalogIndicator(
        "7",
        "完成解答群众的电话咨询率",
        Level1.OUTPUT,
        Level2.QUALITY,
        "%",
        Direction.AT_LEAST,
        Decimal(100),
        "",
        Decimal("7.5"),
        "consultation.hotline_completion_rate",
    ),
    CatalogIndicator(
        "8",
        "是否压缩行政审批时间，提高行政审批效率",
        Level1.BENEFIT,
        Level2.SOCIAL,
        "",
        Direction.QUALITATIVE,
        None,
        "是",
        Decimal(15),
        "",
        ("registration.processing_time_yoy_change", Direction.AT_MOST, Decimal(0)),
    ),
    CatalogIndicator(
        "9",
        "被冒用人对冒名登记处理情况的满意度",
        Level1.SATISFACTION,
        Level2.SERVICE_OBJECT,
        "",
        Direction.QUALITATIVE,
        None,
        "满意",
        Decimal(5),
        "",
        ("investigations.victim_satisfaction_rate", Direction.AT_LEAST, Decimal(90)),
    ),
    CatalogIndicator(
        "10",
        "解答群众的电话咨询满意度",
        Level1.SATISFACTION,
        Level2.SERVICE_OBJECT,
        "",
        Direction.QUALITATIVE,
        None,
        "满意",
        Decimal(5),
        "",
        ("consultation.satisfaction_rate", Direction.AT_LEAST, Decimal(90)),
    ),
]

SEED_INDICATOR_BY_NAME = {i.name: i for i in SEED_INDICATORS}
