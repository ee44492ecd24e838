"""Demo district-year of the enterprise register (Nansha, 440115).

Three seeders, run by `manage.py seed_demo` through bizreg.core.demo:

- `enterprises.ftz_rules`: the FTZ address rules of the seven Nansha FTZ blocks.
- `enterprises.register`: ~62,000 enterprises at scale 1.0, with their simple_history rows (a '+' row on
  the day of establishment, '~' rows for a name change and for the final status change) and former names.
  Renames, 注销 and 迁出 are drawn only before the demo year: in it they are the registration seeder's
  approved cases (CASE_MADE_STATUSES).
- `enterprises.demo_cases`: a few locked enterprises and two USCC exceptions (they need demo users).

`add_enterprises`, `close_enterprises` and `apply_changes` write the register effects of the registration
seeder's approved cases (an app's seeder never writes another app's tables).

Generation is pure (`generate_enterprises` draws only from the Random it is given, so the same seed gives
the same register on any database); the writer then loads the rows in batches. Derived fields come from
bizreg.enterprises.rules (name_initials, match_ftz_rule) so seeded rows equal what the services produce.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.utils import timezone
from stdnum import numdb

from bizreg.core.demo import DemoContext, register_seeder, simulated_now
from bizreg.core.demo_loader import RawLoader
from bizreg.core.identifiers import build_resident_id, build_uscc, random_org_body
from bizreg.core.models import Authority
from bizreg.core.workdays import scheduled_working_day
from bizreg.enterprises.models import (
    Enterprise,
    EnterpriseFormerName,
    EnterprisePerson,
    EnterpriseStatus,
    EntityType,
    FtzAddressRule,
    PersonRole,
    Street,
    UsccException,
)
from bizreg.enterprises.rules import FtzRuleView, address_key, match_ftz_rule, name_initials
from bizreg.enterprises.services import RegisterLookups, clean_enterprise_data

NANSHA = "440115"
ENTERPRISES_AT_SCALE_1 = 62_000
BATCH_SIZE = 5_000
FIRST_YEAR = 2000
_TZ = ZoneInfo("Asia/Shanghai")


# --- FTZ rules ------------------------------------------------------------------------------------------
# The seven blocks of the Nansha area of the Guangdong FTZ, each tagged by road/area names inside it.
# (block, keyword, street code it is restricted to or None, priority)
DEMO_FTZ_RULES: tuple[tuple[str, str, str | None, int], ...] = (
    ("南沙湾区块", "海滨路", "440115003", 10),
    ("南沙湾区块", "丰泽东路", "440115003", 10),
    ("南沙湾区块", "南沙湾", None, 20),
    ("蕉门河中心区区块", "进港大道", "440115003", 10),
    ("蕉门河中心区区块", "环市大道", "440115003", 10),
    ("蕉门河中心区区块", "金隆路", "440115003", 10),
    ("蕉门河中心区区块", "蕉门河", None, 20),
    ("明珠湾起步区区块", "明珠湾", None, 20),
    ("明珠湾起步区区块", "明珠一街", "440115101", 10),
    ("明珠湾起步区区块", "灵山岛", "440115101", 10),
    ("南沙枢纽区块", "南沙枢纽", None, 20),
    ("南沙枢纽区块", "汇通二街", "440115101", 10),
    ("庆盛枢纽区块", "庆盛", "440115103", 10),
    ("海港区块", "龙穴岛", None, 20),
    ("海港区块", "港前大道", "440115005", 10),
    ("海港区块", "沙仔岛", "440115102", 10),
    ("万顷沙保税港加工制造业区块", "保税港加工区", "440115100", 10),
    ("万顷沙保税港加工制造业区块", "万环西路", "440115100", 10),
)


def ensure_ftz_rules(*, authority: Authority) -> int:
    """Create the demo FTZ rules of `authority` that are missing; returns how many were created."""
    if authority.division_code != NANSHA:
        raise ValueError(f"演示自贸区规则和登记簿只能为南沙区（{NANSHA}）的登记机关生成，{authority} 不是。")
    streets = {s.code: s for s in Street.objects.filter(code__in={r[2] for r in DEMO_FTZ_RULES if r[2]})}
    created = 0
    for area, keyword, street_code, priority in DEMO_FTZ_RULES:
        _, was_created = FtzAddressRule.objects.get_or_create(
            authority=authority,
            area_name=area,
            address_keyword=keyword,
            defaults={
                "street": streets.get(street_code) if street_code else None,
                "priority": priority,
                "note": "演示数据：中国（广东）自由贸易试验区广州南沙新区片区",
            },
        )
        created += was_created
    return created


def ftz_rule_views(*, authority: Authority) -> list[FtzRuleView]:
    return [
        FtzRuleView(r.id, r.area_name, r.street_id, r.address_keyword, r.priority)
        for r in FtzAddressRule.objects.filter(authority=authority, is_active=True)
    ]


# --- Vocabulary -----------------------------------------------------------------------------------------
def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _weighted(spec: str) -> tuple[tuple[str, float], ...]:
    """Parse 'word:weight' pairs: "进港大道:18 海滨路:12" → (("进港大道", 18.0), ("海滨路", 12.0))."""
    return tuple((item.rsplit(":", 1)[0], float(item.rsplit(":", 1)[1])) for item in spec.split())


# Street code → (name used inside addresses, weighted roads/villages). Real roads of each street/town.
STREET_ROADS: dict[str, tuple[str, tuple[tuple[str, float], ...]]] = {
    "440115003": (
        "南沙街",
        _weighted(
            "进港大道:18 海滨路:12 环市大道中:10 环市大道南:6 金隆路:8 丰泽东路:6 双山大道:12 金沙路:8 "
            "南沙湾滨海路:3 塘坑村:5 鸡抱沙村:3"
        ),
    ),
    "440115004": ("珠江街", _weighted("珠江东路:40 珠江中路:25 珠江西路:15 新沙村:10")),
    "440115005": (
        "龙穴街",
        _weighted("港前大道南:35 龙穴岛龙穴大道:25 港荣一街:15 梅山村:15 南沙港快速路:5"),
    ),
    "440115100": ("万顷沙镇", _weighted("万环西路:25 保税港加工区红港大道:20 新垦:15 福安村:15 红港村:15")),
    "440115101": (
        "横沥镇",
        _weighted("明珠一街:18 汇通二街:18 灵山岛尖:8 凤凰大道:15 冯马路:15 新兴村:10 南沙枢纽片区:6"),
    ),
    "440115102": ("黄阁镇", _weighted("黄阁大道中:30 黄阁北路:20 麒麟一路:15 沙仔岛:8 东里村:12 小虎岛:8")),
    "440115103": ("东涌镇", _weighted("市南公路东涌段:30 东涌大道:25 庆盛大道:15 鱼窝头大道:15 吉祥围:10")),
    "440115104": ("大岗镇", _weighted("兴业路:30 大岗大道:25 豪岗大道:20 潭洲村:15")),
    "440115105": ("榄核镇", _weighted("榄核大道:40 民生路:25 人绿村:15 湴湄村:10")),
}
# Where enterprises sit: companies cluster in the FTZ streets, shops follow where people live.
COMPANY_STREET_WEIGHTS = _weighted(
    "440115003:38 440115101:14 440115102:9 440115103:9 440115004:5 440115005:8 440115100:7 440115104:6 "
    "440115105:4"
)
SHOP_STREET_WEIGHTS = _weighted(
    "440115003:20 440115101:6 440115102:13 440115103:20 440115004:8 440115005:3 440115100:6 440115104:15 "
    "440115105:9"
)
ENTITY_TYPE_WEIGHTS = _weighted(
    f"{EntityType.INDIVIDUAL_BUSINESS}:40 {EntityType.LLC}:50 {EntityType.JOINT_STOCK}:0.8 "
    f"{EntityType.SOLE_PROPRIETORSHIP}:2.2 {EntityType.PARTNERSHIP}:2 {EntityType.BRANCH}:3.3 "
    f"{EntityType.FOREIGN_INVESTED}:1.2 {EntityType.COOPERATIVE}:0.5"
)
COMPANY_INDUSTRY_WEIGHTS = _weighted(
    "F:25 L:22 M:14 G:9 I:8 C:5 E:4 R:3 K:2 J:2 H:2 O:1.5 P:1 Q:0.5 A:0.5 N:0.5 D:0.5"
)
SHOP_INDUSTRY_WEIGHTS = _weighted("F:55 H:22 O:13 G:5 C:3 A:2")
BRANCH_INDUSTRIES = _weighted("F:30 G:25 L:15 K:10 H:10 E:10")
FOREIGN_INDUSTRIES = _weighted("F:35 G:20 C:20 M:15 L:10")

# Industry word of a company name, by GB/T 4754 section.
COMPANY_WORDS = {
    "F": _words("贸易 商贸 国际贸易 进出口贸易 建材 五金 电子商务 食品 实业 贸易发展"),
    "L": _words("企业管理 商务咨询 供应链管理 广告 会展服务 人力资源 信息咨询 企业服务"),
    "M": _words("科技 技术 生物科技 新材料科技 检测技术 工程技术 设计 海洋科技 环保科技"),
    "I": _words("信息技术 网络科技 软件 数据科技 数字科技 智能科技 计算机"),
    "G": _words("物流 国际物流 货运代理 船务 航运 运输 仓储 国际货运代理 报关"),
    "C": _words("机械 汽车零部件 电子 精密制造 塑料制品 五金制品 新材料 食品 装备制造"),
    "E": _words("建筑工程 建设工程 装饰工程 机电工程 市政工程 园林工程"),
    "H": _words("餐饮管理 酒店管理 餐饮服务 饮食"),
    "K": _words("房地产开发 物业管理 房地产经纪 置业"),
    "J": _words("融资租赁 商业保理 股权投资基金管理 资产管理"),
    "O": _words("家政服务 汽车服务 清洁服务 美容"),
    "R": _words("文化传播 文化传媒 影视 体育发展 文化发展"),
    "P": _words("教育咨询 教育科技 培训"),
    "Q": _words("健康管理 医疗管理 养老服务"),
    "A": _words("农业发展 水产 农业科技 生态农业"),
    "N": _words("环保工程 园林绿化 环境科技"),
    "D": _words("新能源 能源 储能科技"),
}
# Trade + form of an individual business (个体工商户), by section.
SHOP_WORDS = {
    "F": _words("五金店 便利店 士多店 商行 百货店 水果店 烟酒商行 建材店 粮油店 服装店"),
    "H": _words("餐馆 饭店 茶餐厅 小吃店 面馆 烧腊店 粥粉面店 奶茶店 快餐店"),
    "O": _words("美发店 汽车维修店 洗衣店 家电维修部 理发店 汽车美容店 电动车维修店"),
    "G": _words("货运部 运输部"),
    "C": _words("五金加工厂 木器加工厂 家具厂"),
    "A": _words("水产养殖场 种植场"),
}
# (section, word) of sole proprietorships (…（个人独资）) and partnerships (…合伙企业（有限合伙）).
SOLE_PROP_WORDS = tuple(
    tuple(w.split(":"))
    for w in _words(
        "F:贸易商行 F:商贸行 F:建材经营部 L:企业管理咨询服务部 L:商务咨询服务中心 M:科技服务部 "
        "I:信息技术服务部 R:文化传播工作室"
    )
)
PARTNERSHIP_WORDS = tuple(
    tuple(w.split(":")) for w in _words("J:股权投资 J:创业投资 L:企业管理 L:投资咨询 M:科技")
)
COOPERATIVE_WORDS = _words("水产养殖专业合作社 蔬菜专业合作社 花卉专业合作社 农机专业合作社 香蕉专业合作社")
# Branches of companies from Guangzhou and nearby cities: (parent's city, branch suffix), weight.
BRANCH_PARENTS = (
    (("广州", "南沙分公司"), 60),
    (("深圳市", "广州南沙分公司"), 20),
    (("佛山市", "广州南沙分公司"), 8),
)

BRAND_CHARS = (
    "瑞丰华盛鑫泰达誉海港湾创智汇德信源通锦恒嘉宏新航星联远祥和兴隆安博凯金宝利富荣昌顺益明辉晟睿越卓峰"
    "川蓝洋帆粤穗珠龙凤麒麟云天朗骏驰腾弘启泓澜瀚沃拓芯数奥诺思维乐优佳美康健禾谷田林森晨曦光耀灿璟琪"
    "瑜璐聚合众壹万千百悦喜福吉泽润霖澳亚欧中南粤湾汇铭扬展鸿鹏程晖泰彩"
)
SHOP_BRANDS = _words("兴旺 福满 好运 佳佳 新新 金源 利民 惠民 百顺 旺旺 和记 兴记")

# Common surnames of Guangdong, weighted.
SURNAMES = _weighted(
    "陈:10 李:7 黄:7 张:5 梁:5 林:4 刘:4 吴:3.5 罗:3 何:3 郑:2.5 杨:2.5 王:2.5 冯:2 周:2 谢:2 蔡:1.5 "
    "曾:1.5 邓:1.5 许:1.3 余:1.3 钟:1.3 卢:1.2 彭:1.2 苏:1.1 潘:1.1 叶:1.1 麦:1 郭:1 朱:1 谭:1 胡:1 "
    "关:0.8 赵:0.8 徐:0.8 区:0.6 莫:0.6 温:0.6 袁:0.6 邱:0.6 江:0.6 方:0.6 孙:0.6 马:0.6 高:0.6 "
    "欧阳:0.4 司徒:0.3 冼:0.3"
)
MALE_CHARS = "伟强明华建国志军杰俊浩文辉峰锋斌龙勇海波荣达健豪家嘉锦宇晨子梓铭泽展宏振德永兴耀"
FEMALE_CHARS = "丽芳敏静燕霞婷玲娟红梅雪琳欣颖慧丹洁嘉佩晓淑凤秀美思诗雅彤妍"

# Guangdong county codes a legal representative's ID may carry; each is used only for birth years in
# which the code existed (python-stdnum checks the code against the birth year).
ID_AREA_CODES = _words(
    "440103 440104 440105 440106 440111 440112 440113 440114 440115 440117 440118 440120 440121 440122 "
    "440125 440126 440181 440182 440183 440184 440102 440107 440221 440303 440304 440305 440306 440307 "
    "440402 440823 440825 440881 441202 441302 441322 441323 441402 441424 441481 441521 441581 441602 "
    "441621 441622 441802 441900 442000 440981 440982 440783"
)

# Business-scope items (经营范围规范表述), by section.
_SCOPE_TEXT = {
    "F": "货物进出口 技术进出口 日用百货销售 五金产品批发 五金产品零售 电子产品销售 建筑材料销售 "
    "食品销售（仅销售预包装食品） 服装服饰批发 金属材料销售 国内贸易代理 互联网销售（除销售需要许可的商品）",
    "L": "企业管理 企业管理咨询 信息咨询服务（不含许可类信息咨询服务） 供应链管理服务 商务代理代办服务 "
    "市场营销策划 会议及展览服务 广告设计、代理 以自有资金从事投资活动 非居住房地产租赁 机械设备租赁",
    "M": "技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广 工程和技术研究和试验发展 "
    "新材料技术研发 生物化工产品技术研发 工业设计服务 专业设计服务 海洋工程装备研发",
    "I": "软件开发 信息系统集成服务 信息技术咨询服务 数据处理和存储支持服务 网络技术服务 "
    "人工智能应用软件开发 计算机系统服务",
    "G": "国际货物运输代理 国内货物运输代理 普通货物仓储服务（不含危险化学品等需许可审批的项目） "
    "装卸搬运 无船承运业务 报关业务 船舶租赁 国内船舶代理",
    "C": "通用设备制造（不含特种设备制造） 汽车零部件及配件制造 五金产品制造 塑料制品制造 "
    "电子元器件制造 金属制品销售",
    "E": "园林绿化工程施工 土石方工程施工 对外承包工程 工程管理服务 普通机械设备安装服务",
    "H": "餐饮管理 酒店管理 外卖递送服务 食品销售（仅销售预包装食品）",
    "K": "物业管理 房地产经纪 住房租赁 停车场服务",
    "J": "融资咨询服务 以自有资金从事投资活动 社会经济咨询服务",
    "O": "家政服务 机动车修理和维护 洗染服务 日用电器修理 美发饰品销售",
    "R": "组织文化艺术交流活动 文艺创作 电影摄制服务 数字文化创意内容应用服务 体育赛事策划",
    "P": "教育咨询服务（不含涉许可审批的教育培训活动） "
    "业务培训（不含教育培训、职业技能培训等需取得许可的培训）",
    "Q": "健康咨询服务（不含诊疗服务） 养老服务 第一类医疗器械销售",
    "A": "水产养殖 蔬菜种植 花卉种植 农产品的生产、销售、加工、运输、贮藏及其他相关服务",
    "N": "园林绿化工程施工 环境保护监测 水污染治理 城市绿化管理",
    "D": "太阳能发电技术服务 储能技术服务 合同能源管理",
}
SCOPE_ITEMS = {section: _words(items) for section, items in _SCOPE_TEXT.items()}
LICENSED_ITEMS = {
    "F": "酒类经营",
    "G": "道路货物运输（不含危险货物）",
    "C": "食品生产",
    "E": "建设工程施工",
    "H": "餐饮服务",
    "K": "房地产开发经营",
    "Q": "诊所服务",
}
_SCOPE_TAIL = "（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）"
_LICENSED_TAIL = (
    "（依法须经批准的项目，经相关部门批准后方可开展经营活动，具体经营项目以相关部门批准文件或许可证件为准）"
)

# Final status per kind of entity: (status, probability). Shops close more, only companies move away.
STATUS_RATES_SHOP = ((EnterpriseStatus.DEREGISTERED, 0.16), (EnterpriseStatus.REVOKED, 0.04))
STATUS_RATES_COMPANY = (
    (EnterpriseStatus.DEREGISTERED, 0.092),
    (EnterpriseStatus.REVOKED, 0.04),
    (EnterpriseStatus.MOVED_OUT, 0.034),
)
STATUS_REASONS = {
    EnterpriseStatus.DEREGISTERED: "注销登记",
    EnterpriseStatus.REVOKED: "吊销营业执照",
    EnterpriseStatus.MOVED_OUT: "迁出登记",
}
# Changes of the demo year that only a registration case makes: the register draws none dated in that year
# (the registration seeder's 注销/迁出 and 变更 cases make them, with their history rows). 吊销 is not a
# registration case, so the register keeps drawing it.
CASE_MADE_STATUSES = frozenset({EnterpriseStatus.DEREGISTERED, EnterpriseStatus.MOVED_OUT})
FORMER_NAME_RATE = 0.065
REPEAT_LEGAL_REP_RATE = 0.12


# --- Generation (pure) ----------------------------------------------------------------------------------
@dataclass(slots=True)
class DemoEnterprise:
    """One generated enterprise with the events of its history, before it is written."""

    uscc: str
    name: str
    name_initials: str
    entity_type: str
    legal_rep_name: str
    legal_rep_id_number: str
    registered_capital: Decimal | None
    established_on: dt.date
    business_scope: str
    industry: str
    address: str
    street_id: int
    in_ftz: bool
    ftz_area: str
    ftz_rule_id: int | None
    status: str
    status_changed_on: dt.date | None
    former_name: str | None
    renamed_on: dt.date | None
    # When and how it entered this register, when not by establishment here (迁入: moved in from elsewhere).
    registered_on: dt.date | None = None
    registered_as: str = "设立登记"


class _Weighted:
    """A fixed weighted choice; `rng.choices` recomputes cumulative weights on every call."""

    def __init__(self, pairs):
        self.values = [p[0] for p in pairs]
        self.cum = list(itertools.accumulate(p[-1] for p in pairs))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random):
        return self.values[bisect.bisect_right(self.cum, rng.random() * self.total)]


@lru_cache(maxsize=1)
def _id_area_codes_by_year() -> dict[int, tuple[str, ...]]:
    """Birth year → the codes of ID_AREA_CODES python-stdnum accepts for someone born that year.

    Read from stdnum's own table of county codes ("[1983-2005]东山区"), once per code rather than once
    per code and year: this runs inside every seed.
    """
    table: dict[int, list[str]] = {year: [] for year in range(1935, 2010)}
    db = numdb.get("cn/loc")
    for code in ID_AREA_CODES:
        counties = {k: v for _, props in db.info(code) for k, v in props.items()}.get("county", "")
        for county in counties.split(","):
            start, end = 0, 9999
            if county.startswith("["):
                first, last = county[1:].split("]")[0].split("-")
                start, end = int(first or 0), int(last or 9999)
            for year in table:
                if start <= year <= end and code not in table[year]:
                    table[year].append(code)
    return {year: tuple(codes) for year, codes in table.items()}


class EnterpriseGenerator:
    """Draws enterprises for one authority and year; same Random seed, same register."""

    def __init__(
        self,
        *,
        rng: random.Random,
        year: int,
        division_code: str,
        street_ids: dict[str, int],
        ftz_rules: Sequence[FtzRuleView],
    ):
        missing = sorted(set(STREET_ROADS) - set(street_ids))
        if missing:
            raise ValueError(
                f"区划 {division_code} 缺少南沙区街道/镇 {'、'.join(missing)}："
                "演示登记簿只能为南沙区（440115）的登记机关生成（街道/镇由数据库迁移载入）。"
            )
        self.rng = rng
        self.year = year
        self.division_code = division_code
        self.street_ids = street_ids
        self.ftz_rules = sorted(ftz_rules, key=lambda r: (r.priority, r.id))
        self.first_day = dt.date(FIRST_YEAR, 1, 1)
        self.year_start = dt.date(year, 1, 1)
        self.last_day = dt.date(year, 12, 31)
        self.used_usccs: set[str] = set()
        self.used_names: set[str] = set()
        self.people: list[tuple[str, str]] = []
        self.area_codes = _id_area_codes_by_year()
        self.entity_types = _Weighted(ENTITY_TYPE_WEIGHTS)
        self.company_industries = _Weighted(COMPANY_INDUSTRY_WEIGHTS)
        self.shop_industries = _Weighted(SHOP_INDUSTRY_WEIGHTS)
        self.branch_industries = _Weighted(BRANCH_INDUSTRIES)
        self.foreign_industries = _Weighted(FOREIGN_INDUSTRIES)
        self.branch_parents = _Weighted(BRANCH_PARENTS)
        self.company_streets = _Weighted(COMPANY_STREET_WEIGHTS)
        self.shop_streets = _Weighted(SHOP_STREET_WEIGHTS)
        self.roads = {code: _Weighted(roads) for code, (_, roads) in STREET_ROADS.items()}
        self.surnames = _Weighted(SURNAMES)
        # Registrations grow year on year, with a step when the FTZ opened (2015) and dips in 2020/2023.
        year_weights = []
        for y in range(FIRST_YEAR, year + 1):
            w = 1.15 ** (y - FIRST_YEAR) * (1.6 if y >= 2015 else 1.0)
            w *= {2020: 0.85, 2022: 0.9, 2023: 0.92}.get(y, 1.0)
            year_weights.append((y, w))
        self.years = _Weighted(year_weights)
        self.scopes = {ind: self._scope_variants(ind) for ind in SCOPE_ITEMS}

    def _scope_variants(self, industry: str) -> list[str]:
        items = SCOPE_ITEMS[industry]
        variants = []
        for _ in range(24):
            picked = self.rng.sample(items, k=min(len(items), self.rng.randint(2, 6)))
            text = "一般项目：" + "；".join(picked) + "。" + _SCOPE_TAIL
            if industry in LICENSED_ITEMS and self.rng.random() < 0.5:
                text += "许可项目：" + LICENSED_ITEMS[industry] + "。" + _LICENSED_TAIL
            variants.append(text)
        return variants

    # -- parts --
    def _uscc(self, category: str) -> str:
        while True:
            code = build_uscc(self.division_code, random_org_body(self.rng), category=category)
            if code not in self.used_usccs:
                self.used_usccs.add(code)
                return code

    def _brand(self) -> str:
        rng = self.rng
        n = 3 if rng.random() < 0.12 else 2
        return "".join(rng.choice(BRAND_CHARS) for _ in range(n))

    def _shop_brand(self) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.3:
            return "阿" + rng.choice(MALE_CHARS + FEMALE_CHARS)
        if r < 0.5:
            return self.surnames.pick(rng)[-1] + "记"
        if r < 0.6:
            return "老" + self.surnames.pick(rng)
        if r < 0.75:
            return rng.choice(SHOP_BRANDS)
        return self._brand()

    def _unique(self, make) -> str:
        for attempt in range(50):
            name = make(long_brand=attempt >= 10)
            if name not in self.used_names:
                self.used_names.add(name)
                return name
        raise RuntimeError("无法生成不重复的演示企业名称")

    def _name(self, entity_type: str, industry: str, street_code: str) -> str:
        rng = self.rng

        def brand(long_brand: bool) -> str:
            return self._brand() + (rng.choice(BRAND_CHARS) if long_brand else "")

        if entity_type == EntityType.INDIVIDUAL_BUSINESS:
            place = STREET_ROADS[street_code][0]
            word = rng.choice(SHOP_WORDS[industry])

            def make(long_brand):
                prefix = "广州市南沙区" if rng.random() < 0.8 else "南沙区"
                shop = brand(True) if long_brand else self._shop_brand()
                return f"{prefix}{place}{shop}{word}"

        elif entity_type == EntityType.BRANCH:
            city, suffix = self.branch_parents.pick(rng)
            word = rng.choice(COMPANY_WORDS[industry])

            def make(long_brand):
                return f"{city}{brand(long_brand)}{word}有限公司{suffix}"

        elif entity_type == EntityType.SOLE_PROPRIETORSHIP:
            word = next(w for ind, w in SOLE_PROP_WORDS if ind == industry)

            def make(long_brand):
                return f"广州{brand(long_brand)}{word}（个人独资）"

        elif entity_type == EntityType.PARTNERSHIP:
            word = next(w for ind, w in PARTNERSHIP_WORDS if ind == industry)
            form = "（有限合伙）" if rng.random() < 0.85 else "（普通合伙）"

            def make(long_brand):
                return f"广州{brand(long_brand)}{word}合伙企业{form}"

        elif entity_type == EntityType.COOPERATIVE:
            place = STREET_ROADS[street_code][0]
            word = rng.choice(COOPERATIVE_WORDS)

            def make(long_brand):
                return f"广州市南沙区{place}{brand(long_brand)}{word}"

        else:
            word = rng.choice(COMPANY_WORDS[industry])
            form = "股份有限公司" if entity_type == EntityType.JOINT_STOCK else "有限公司"
            if entity_type == EntityType.LLC and rng.random() < 0.04:
                form = "有限责任公司"
            foreign_style = entity_type == EntityType.FOREIGN_INVESTED and rng.random() < 0.45
            city = "广州市" if rng.random() < 0.15 else "广州"

            def make(long_brand):
                if foreign_style:
                    return f"{brand(long_brand)}（广州）{word}{form}"
                return f"{city}{brand(long_brand)}{word}{form}"

        return self._unique(make)

    def _person(self, established: dt.date) -> tuple[str, str]:
        rng = self.rng
        if self.people and rng.random() < REPEAT_LEGAL_REP_RATE:
            return rng.choice(self.people)
        male = rng.random() < 0.64
        chars = MALE_CHARS if male else FEMALE_CHARS
        given = rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.8 else "")
        name = self.surnames.pick(rng) + given
        birth_year = max(1935, min(2009, established.year - rng.randint(22, 62)))
        birth = dt.date(birth_year, rng.randint(1, 12), rng.randint(1, 28))
        area = rng.choice(self.area_codes[birth_year])
        # The 17th digit is odd for men and even for women.
        sequence = rng.randrange(0, 500) * 2 + (1 if male else 0)
        person = (name, build_resident_id(area, birth, sequence))
        self.people.append(person)
        if len(self.people) > 5000:
            self.people.pop(0)
        return person

    def _date_in(self, start: dt.date, end: dt.date) -> dt.date:
        """A working day in [start, end], each equally likely: registrations are decided on working days
        (the registration seeder's cases decide only on them, and take the register's entry of their day)."""
        span = max(0, (end - start).days)
        for _ in range(64):
            day = start + dt.timedelta(days=self.rng.randint(0, span))
            if scheduled_working_day(day):
                return day
        return _working_day_from(start, end)

    def _established(self) -> dt.date:
        y = self.years.pick(self.rng)
        return self._date_in(dt.date(y, 1, 1), dt.date(y, 12, 31))

    def _capital(self, entity_type: str) -> Decimal | None:
        rng = self.rng
        wan = None
        if entity_type in (EntityType.LLC, EntityType.FOREIGN_INVESTED):
            if rng.random() < 0.65 and entity_type == EntityType.LLC:
                wan = rng.choice((10, 30, 50, 50, 100, 100, 100, 100, 200, 300, 500, 500, 1000, 1000, 5000))
            else:
                median = 100 if entity_type == EntityType.LLC else 500
                wan = max(1, round(math.exp(rng.gauss(math.log(median), 1.3))))
        elif entity_type == EntityType.JOINT_STOCK:
            wan = max(500, round(math.exp(rng.gauss(math.log(5000), 1.0)), -2))
        elif entity_type == EntityType.PARTNERSHIP:
            wan = max(10, round(math.exp(rng.gauss(math.log(1000), 1.2))))
        elif entity_type == EntityType.SOLE_PROPRIETORSHIP:
            wan = rng.choice((1, 3, 5, 10, 10, 20, 50, 100))
        elif entity_type == EntityType.COOPERATIVE:
            wan = rng.choice((10, 50, 100, 200, 500))
        elif entity_type == EntityType.INDIVIDUAL_BUSINESS and rng.random() < 0.35:
            wan = rng.choice((1, 2, 3, 5, 5, 10, 20, 50))
        return None if wan is None else Decimal(int(wan) * 10000).quantize(Decimal("0.01"))

    def _address(self, street_code: str, entity_type: str, established: dt.date) -> str:
        rng = self.rng
        place, _ = STREET_ROADS[street_code]
        is_shop = entity_type in (EntityType.INDIVIDUAL_BUSINESS, EntityType.COOPERATIVE)
        # FTZ companies since 2015 often register at a cluster address (集群注册, office use only).
        if not is_shop and established.year >= 2015 and rng.random() < 0.3:
            if street_code == "440115003":
                room = f"X1301-{rng.choice('ABDG')}{rng.randint(1, 9999):04d}"
                return f"广州市南沙区丰泽东路106号（自编1号楼）{room}（仅限办公）"
            if street_code == "440115101":
                room = f"{rng.randint(1, 40):02d}{rng.randint(1, 99):02d}"
                return f"广州市南沙区横沥镇汇通二街2号{room}房（仅限办公）"
        road = self.roads[street_code].pick(rng)
        number = rng.randint(1, 60) if road.endswith("村") else rng.randint(1, 300)
        if is_shop:
            suffix = rng.choice(("首层", "之一", "之二", "首层商铺", f"{rng.randint(101, 120)}铺", ""))
        else:
            building = f"（自编{rng.randint(1, 12)}栋）" if rng.random() < 0.3 else ""
            suffix = f"{building}{rng.randint(1, 32)}{rng.randint(1, 30):02d}房"
        return f"广州市南沙区{place}{road}{number}号{suffix}"

    def _status(self, entity_type: str, established: dt.date) -> tuple[str, dt.date | None]:
        rates = STATUS_RATES_SHOP if entity_type == EntityType.INDIVIDUAL_BUSINESS else STATUS_RATES_COMPANY
        r = self.rng.random()
        for status, rate in rates:
            if r < rate:
                start = established + dt.timedelta(days=120)
                if start >= self.last_day:
                    break
                changed_on = self._date_in(start, self.last_day)
                if status in CASE_MADE_STATUSES and changed_on >= self.year_start:
                    break  # active: an approved 注销/迁出 case of the year closes it
                return status, changed_on
            r -= rate
        return EnterpriseStatus.ACTIVE, None

    # -- one enterprise --
    def _trade_and_street(self, entity_type: str) -> tuple[str, str]:
        """The industry and street code of a new enterprise of `entity_type`."""
        rng = self.rng
        if entity_type == EntityType.INDIVIDUAL_BUSINESS:
            return self.shop_industries.pick(rng), self.shop_streets.pick(rng)
        if entity_type == EntityType.COOPERATIVE:
            return "A", rng.choice(("440115100", "440115103", "440115104", "440115105"))
        if entity_type == EntityType.BRANCH:
            industry = self.branch_industries.pick(rng)
        elif entity_type == EntityType.FOREIGN_INVESTED:
            industry = self.foreign_industries.pick(rng)
        elif entity_type == EntityType.SOLE_PROPRIETORSHIP:
            industry = rng.choice(SOLE_PROP_WORDS)[0]
        elif entity_type == EntityType.PARTNERSHIP:
            industry = rng.choice(PARTNERSHIP_WORDS)[0]
        else:
            industry = self.company_industries.pick(rng)
        return industry, self.company_streets.pick(rng)

    def name_of(self, entity_type: str) -> str:
        """A new name in the form of `entity_type` (what a 变更 of name asks for)."""
        return self._name(entity_type, *self._trade_and_street(entity_type))

    def enterprise(self) -> DemoEnterprise:
        rng = self.rng
        entity_type = self.entity_types.pick(rng)
        industry, street_code = self._trade_and_street(entity_type)
        category = {EntityType.INDIVIDUAL_BUSINESS: "2", EntityType.COOPERATIVE: "3"}.get(entity_type, "1")
        established = self._established()
        name = self._name(entity_type, industry, street_code)
        address = self._address(street_code, entity_type, established)
        street_id = self.street_ids[street_code]
        rule = match_ftz_rule(address, street_id, self.ftz_rules)
        status, changed_on = self._status(entity_type, established)
        former_name = renamed_on = None
        if entity_type != EntityType.BRANCH and rng.random() < FORMER_NAME_RATE:
            end = (changed_on or self.last_day) - dt.timedelta(days=30)
            start = established + dt.timedelta(days=365)
            if start < end:
                former_name = self._name(entity_type, industry, street_code)
                renamed_on = self._date_in(start, end)
                if renamed_on >= self.year_start:  # the year's names change by its 变更 cases
                    former_name = renamed_on = None
        rep_name, rep_id = self._person(established)
        return DemoEnterprise(
            uscc=self._uscc(category),
            name=name,
            name_initials=name_initials(name),
            entity_type=str(entity_type),
            legal_rep_name=rep_name,
            legal_rep_id_number=rep_id,
            registered_capital=self._capital(entity_type),
            established_on=established,
            business_scope=rng.choice(self.scopes[industry]),
            industry=industry,
            address=address,
            street_id=street_id,
            in_ftz=rule is not None,
            ftz_area=rule.area_name if rule else "",
            ftz_rule_id=rule.id if rule else None,
            status=str(status),
            status_changed_on=changed_on,
            former_name=former_name,
            renamed_on=renamed_on,
        )


def generate_enterprises(
    *,
    rng: random.Random,
    count: int,
    year: int,
    division_code: str,
    street_ids: dict[str, int],
    ftz_rules: Sequence[FtzRuleView],
) -> Iterator[DemoEnterprise]:
    generator = EnterpriseGenerator(
        rng=rng, year=year, division_code=division_code, street_ids=street_ids, ftz_rules=ftz_rules
    )
    for _ in range(count):
        yield generator.enterprise()


def enterprise_count(scale: float) -> int:
    return max(1, round(ENTERPRISES_AT_SCALE_1 * scale))


# --- Writing --------------------------------------------------------------------------------------------
def _working_day_from(start: dt.date, end: dt.date) -> dt.date:
    """The first working day on or after `start`, or the last one before it when [start, end] has none."""
    day = start
    while day <= end:
        if scheduled_working_day(day):
            return day
        day += dt.timedelta(days=1)
    day = start
    while not scheduled_working_day(day):
        day -= dt.timedelta(days=1)
    return day


def _at(day: dt.date, seconds: int) -> dt.datetime:
    """An aware moment during office hours of `day` (history rows are dated when the event happened)."""
    return dt.datetime.combine(day, dt.time(9), tzinfo=_TZ) + dt.timedelta(seconds=seconds % 30000)


def _history_rows(e: DemoEnterprise, pk: int, authority_id: int, now: dt.datetime) -> list[dict]:
    base = {
        "id": pk,
        "created_at": now,
        "updated_at": now,
        "uscc": e.uscc,
        "uscc_is_exception": False,
        "name": e.former_name or e.name,
        "name_initials": name_initials(e.former_name) if e.former_name else e.name_initials,
        "entity_type": e.entity_type,
        "legal_rep_name": e.legal_rep_name,
        "legal_rep_id_number": e.legal_rep_id_number,
        "registered_capital": e.registered_capital,
        "established_on": e.established_on,
        "business_scope": e.business_scope,
        "industry": e.industry,
        "address": e.address,
        "address_key": address_key(e.address),
        "street_id": e.street_id,
        "in_ftz": e.in_ftz,
        "ftz_area": e.ftz_area,
        "ftz_rule_id": e.ftz_rule_id,
        "ftz_override": None,
        "ftz_override_reason": "",
        "status": EnterpriseStatus.ACTIVE.value,
        "status_changed_on": None,
        "authority_id": authority_id,
        "history_date": _at(e.registered_on or e.established_on, pk * 7919),
        "history_change_reason": e.registered_as,
        "history_type": "+",
        "history_user_id": None,
    }
    rows = [base]
    if e.former_name:
        rows.append(
            base
            | {
                "name": e.name,
                "name_initials": e.name_initials,
                "history_date": _at(e.renamed_on, pk * 104729),
                "history_change_reason": "名称变更登记",
                "history_type": "~",
            }
        )
    if e.status != EnterpriseStatus.ACTIVE:
        rows.append(
            rows[-1]
            | {
                "status": e.status,
                "status_changed_on": e.status_changed_on,
                "history_date": _at(e.status_changed_on, pk * 15485863),
                "history_change_reason": STATUS_REASONS[e.status],
                "history_type": "~",
            }
        )
    return rows


def write_enterprises(
    enterprises: list[DemoEnterprise],
    *,
    authority_id: int,
    writer: RawLoader,
    now: dt.datetime,
    history: bool = True,
) -> int:
    """Write one batch of generated enterprises with history and former names; returns their ids.

    `history=False` leaves out the simple_history rows (the search benchmark's million-row register).
    """
    HistoricalEnterprise = Enterprise.history.model
    rows = [
        {
            "created_at": now,
            "updated_at": now,
            "authority_id": authority_id,
            "uscc": e.uscc,
            "uscc_is_exception": False,
            "name": e.name,
            "name_initials": e.name_initials,
            "entity_type": e.entity_type,
            "legal_rep_name": e.legal_rep_name,
            "legal_rep_id_number": e.legal_rep_id_number,
            "registered_capital": e.registered_capital,
            "established_on": e.established_on,
            "business_scope": e.business_scope,
            "industry": e.industry,
            "address": e.address,
            "address_key": address_key(e.address),
            "street_id": e.street_id,
            "in_ftz": e.in_ftz,
            "ftz_area": e.ftz_area,
            "ftz_rule_id": e.ftz_rule_id,
            "ftz_override": None,
            "ftz_override_reason": "",
            "status": e.status,
            "status_changed_on": e.status_changed_on,
        }
        for e in enterprises
    ]
    ids = writer.ids(Enterprise, len(rows))
    for row, pk in zip(rows, ids, strict=True):
        row["id"] = pk
    writer.insert(Enterprise, rows)
    history_rows = []
    former = []
    for e, pk in zip(enterprises, ids, strict=True):
        if history:
            history_rows.extend(_history_rows(e, pk, authority_id, now))
        if e.former_name:
            former.append({"enterprise_id": pk, "name": e.former_name, "used_until": e.renamed_on})
    writer.insert(HistoricalEnterprise, history_rows)
    if not history:
        writer.insert(EnterpriseFormerName, former)
        return ids
    _write_former_names(former, writer=writer)
    return ids


def _write_former_names(rows: list[dict], *, writer: RawLoader) -> None:
    """Insert former-name rows (enterprise_id, name, used_until) with their '+' history rows."""
    for row, pk in zip(rows, writer.ids(EnterpriseFormerName, len(rows)), strict=True):
        row["id"] = pk
    writer.insert(EnterpriseFormerName, rows)
    writer.insert(
        EnterpriseFormerName.history.model,
        [
            row
            | {
                "history_date": _at(row["used_until"], row["id"]),
                "history_change_reason": "名称变更登记",
                "history_type": "+",
                "history_user_id": None,
            }
            for row in rows
        ],
    )


def load_register(
    ctx: DemoContext,
    *,
    count: int | None = None,
    history: bool = True,
    log_every: int = BATCH_SIZE,
) -> int:
    """Generate and write the demo register of ctx.authority; returns the number of enterprises.

    Rows written (enterprises, history, former names) are left in ctx.shared["enterprises.rows_written"].
    """
    authority = ctx.authority
    count = enterprise_count(ctx.scale) if count is None else count
    street_ids = dict(Street.objects.filter(division_code=authority.division_code).values_list("code", "id"))
    generator = generate_enterprises(
        rng=ctx.rng("enterprises.register"),
        count=count,
        year=ctx.year,
        division_code=authority.division_code,
        street_ids=street_ids,
        ftz_rules=ftz_rule_views(authority=authority),
    )
    writer = RawLoader()
    now = timezone.now()
    written = 0
    while batch := list(itertools.islice(generator, BATCH_SIZE)):
        write_enterprises(batch, authority_id=authority.id, writer=writer, now=now, history=history)
        written += len(batch)
        if written % log_every == 0 or written == count:
            ctx.log(f"  商事主体 {written}/{count}")
    ctx.shared["enterprises.rows_written"] = writer.rows
    return written


# --- The register effects of another seeder's cases ------------------------------------------------------
def add_enterprises(enterprises: Sequence[DemoEnterprise], *, authority_id: int) -> list[int]:
    """Enter enterprises a demo case established or moved in (with their '+' history rows); returns their
    ids in the same order. The registration seeder calls this for its approved 设立/迁入 cases that the
    generated register has no entry for, so every approved case names an enterprise of the register."""
    writer = RawLoader()
    now = timezone.now()
    ids: list[int] = []
    for start in range(0, len(enterprises), BATCH_SIZE):
        batch = list(enterprises[start : start + BATCH_SIZE])
        ids += write_enterprises(batch, authority_id=authority_id, writer=writer, now=now)
    return ids


# The statuses a demo case closes from: a revoked (吊销) enterprise is wound up by 注销 but never moves away.
CLOSABLE_FROM = {
    EnterpriseStatus.DEREGISTERED: frozenset({EnterpriseStatus.ACTIVE, EnterpriseStatus.REVOKED}),
    EnterpriseStatus.MOVED_OUT: frozenset({EnterpriseStatus.ACTIVE}),
}


def close_enterprises(changes: Sequence[tuple[int, str, dt.date]], *, authority_id: int) -> int:
    """Set (enterprise id, final status, day) on enterprises of the authority — 注销 (of an active or a
    revoked one) or 迁出 (of an active one) approved by a demo case — with the '~' history row the service
    would leave; returns how many changed."""
    HistoricalEnterprise = Enterprise.history.model
    wanted = {pk: (status, day) for pk, status, day in changes}
    fields = [f.attname for f in Enterprise._meta.concrete_fields]
    now = timezone.now()
    history_rows = []
    by_status_day: dict[tuple[str, dt.date], list[int]] = {}
    pks = sorted(wanted)
    for start in range(0, len(pks), BATCH_SIZE):
        current = Enterprise.objects.filter(
            authority_id=authority_id,
            status__in=frozenset().union(*CLOSABLE_FROM.values()),
            pk__in=pks[start : start + BATCH_SIZE],
        ).values(*fields)
        for row in current:
            status, day = wanted[row["id"]]
            if row["status"] not in CLOSABLE_FROM[status]:
                continue
            by_status_day.setdefault((status, day), []).append(row["id"])
            history_rows.append(
                row
                | {
                    "updated_at": now,
                    "status": status,
                    "status_changed_on": day,
                    "history_date": _at(day, row["id"] * 15485863),
                    "history_change_reason": STATUS_REASONS[status],
                    "history_type": "~",
                    "history_user_id": None,
                }
            )
    for (status, day), ids in by_status_day.items():
        Enterprise.objects.filter(pk__in=ids).update(status=status, status_changed_on=day, updated_at=now)
    RawLoader().insert(HistoricalEnterprise, history_rows)
    return len(history_rows)


@dataclass(frozen=True, slots=True)
class RegisterChange:
    """The fields a demo 变更 case changed when it was approved, keyed as enterprise_update takes them."""

    enterprise_id: int
    at: dt.datetime
    values: dict
    reason: str
    user_id: int | None


# Columns of a history row that are the entry's data rather than the row's own bookkeeping.
_KEPT_COLUMNS = frozenset({"id", "created_at", "updated_at"})


def _derived(state: dict, values: dict, lookups: RegisterLookups) -> dict:
    """`values` cleaned by the register's own rules (derived columns included: name initials, address key,
    FTZ tag), less what `state` already holds."""
    cleaned = clean_enterprise_data(values, lookups=lookups, actor=None, instance=Enterprise(**state))
    return {k: v for k, v in cleaned.values.items() if state[k] != v}


def _replayed(
    history: list[dict], changes: Sequence[RegisterChange], lookups: RegisterLookups, data: list[str]
):
    """The entry's history rows with `changes` put in at their moments: each stored row keeps its own event
    (what it changed against the row before) on top of the changes dated earlier. Returns the rows (new ones
    without history_id), the final state, the names given up (name, last day) and the legal
    representatives taken on (name, id number, first day)."""
    merged = sorted(
        [(row["history_date"], 0, row) for row in history] + [(c.at, 1, c) for c in changes],
        key=lambda item: (item[0], item[1]),
    )
    rows: list[dict] = []
    state: dict | None = None
    previous: dict | None = None
    names: list[tuple[str, dt.date]] = []
    reps: list[tuple[str, str, dt.date]] = []
    for at, is_change, item in merged:
        if not is_change:
            delta = {f: item[f] for f in data if previous is None or item[f] != previous[f]}
            previous = item
            row = dict(item)
        elif state is None:
            continue  # nothing to change before the entry exists
        else:
            delta = _derived(state, item.values, lookups)
            if not delta:
                continue
            row = {
                "id": previous["id"],
                "created_at": previous["created_at"],
                "updated_at": at,
                "history_date": at,
                "history_change_reason": item.reason,
                "history_type": "~",
                "history_user_id": item.user_id,
            }
        day = at.astimezone(_TZ).date()
        if state is not None and "name" in delta and delta["name"] != state["name"]:
            names.append((state["name"], day))
        if is_change and ("legal_rep_id_number" in delta or "legal_rep_name" in delta):
            merged_rep = state | delta
            reps.append((merged_rep["legal_rep_name"], merged_rep["legal_rep_id_number"], day))
        state = delta if state is None else state | delta
        rows.append(row | state)
    return rows, state, names, reps


def apply_changes(changes: Sequence[RegisterChange], *, authority: Authority, rng: random.Random) -> int:
    """Apply 变更 cases the registration seeder approved, as enterprises.services.enterprise_update would
    have on their day: the entry takes the new values (name initials, address key and FTZ tag derived),
    a '~' history row dated at the approval carries them, and the stored history rows dated later carry
    them too; a new name keeps the old one as a former name; a new legal representative ends the old
    one's person-role that day and starts their own. Returns the number of changes applied."""
    HistoricalEnterprise = Enterprise.history.model
    by_enterprise: dict[int, list[RegisterChange]] = {}
    for change in changes:
        by_enterprise.setdefault(change.enterprise_id, []).append(change)
    data = [f.attname for f in Enterprise._meta.concrete_fields if f.attname not in _KEPT_COLUMNS]
    lookups = RegisterLookups.load(authority)
    street_ids = dict(Street.objects.filter(division_code=authority.division_code).values_list("code", "id"))
    contacts = PersonRoleGenerator(
        rng=rng, year=timezone.localdate().year, division_code=authority.division_code, street_ids=street_ids
    )
    loader = RawLoader()
    now = timezone.now()
    applied = 0
    pks = sorted(by_enterprise)
    for start in range(0, len(pks), BATCH_SIZE):
        batch = pks[start : start + BATCH_SIZE]
        current = {
            row["id"]: row for row in Enterprise.objects.filter(authority=authority, pk__in=batch).values()
        }
        stored: dict[int, list[dict]] = {}
        for row in (
            HistoricalEnterprise.objects.filter(id__in=batch).order_by("history_date", "history_id").values()
        ):
            stored.setdefault(row["id"], []).append(row)
        entries, kept_rows, new_rows, renamed, new_reps = [], [], [], {}, {}
        for pk in batch:
            if pk not in current or pk not in stored:
                continue
            rows, state, names, reps = _replayed(stored[pk], by_enterprise[pk], lookups, data)
            if len(rows) == len(stored[pk]):
                continue  # every change was already there
            applied += len(rows) - len(stored[pk])
            entries.append({"id": pk, **state, "updated_at": now})
            kept_rows += [r for r in rows if "history_id" in r]
            new_rows += [r for r in rows if "history_id" not in r]
            if any("name" in c.values for c in by_enterprise[pk]):
                renamed[pk] = names
            if reps:
                new_reps[pk] = (stored[pk][0], reps)
        if not entries:
            continue
        changed = [e["id"] for e in entries]
        loader.update(Enterprise, entries)
        HistoricalEnterprise.objects.filter(id__in=changed).delete()
        loader.insert(HistoricalEnterprise, kept_rows)
        loader.insert(HistoricalEnterprise, new_rows)
        _rewrite_former_names(renamed, loader=loader)
        _follow_legal_reps(new_reps, loader=loader, contacts=contacts, now=now)
    return applied


def _rewrite_former_names(renamed: dict[int, list[tuple[str, dt.date]]], *, loader: RawLoader) -> None:
    """Replace the former names of the entries in `renamed` with the names they gave up."""
    old = list(
        EnterpriseFormerName.objects.filter(enterprise_id__in=list(renamed)).values_list("pk", flat=True)
    )
    # After the rows: deleting them leaves simple_history's '-' rows, which go too (this is a rewrite).
    EnterpriseFormerName.objects.filter(pk__in=old).delete()
    EnterpriseFormerName.history.model.objects.filter(id__in=old).delete()
    rows = [
        {"enterprise_id": pk, "name": name, "used_until": day}
        for pk, names in renamed.items()
        for name, day in names
    ]
    _write_former_names(rows, writer=loader)


def _follow_legal_reps(new_reps: dict, *, loader: RawLoader, contacts: PersonRoleGenerator, now) -> None:
    """End the legal representative's person-role on the day a change names another one and start the new
    one's (enterprises.services._legal_rep_follow); an entry with no person-roles yet gets its first
    representative's row from its registration."""
    open_rows: dict[int, list[dict]] = {}
    for row in EnterprisePerson.objects.filter(
        enterprise_id__in=list(new_reps), role=PersonRole.LEGAL_REP, ended_on__isnull=True
    ).values("id", "enterprise_id", "id_number", "started_on", "ended_on"):
        open_rows.setdefault(row["enterprise_id"], []).append(row)
    ended, started = [], []

    def person(pk: int, name: str, id_number: str, day: dt.date) -> dict:
        phone, home, home_key = contacts.contact(id_number)
        return {
            "created_at": now,
            "updated_at": now,
            "enterprise_id": pk,
            "role": str(PersonRole.LEGAL_REP),
            "name": name,
            "id_number": id_number,
            "phone": phone,
            "address": home,
            "address_key": home_key,
            "share_ratio": None,
            "started_on": day,
            "ended_on": None,
            "end_reason": "",
        }

    for pk, (registered, reps) in new_reps.items():
        rows = open_rows.get(pk)
        if rows is None:
            first = person(
                pk,
                registered["legal_rep_name"],
                registered["legal_rep_id_number"],
                registered["established_on"],
            )
            started.append(first)
            rows = [first]
        for name, id_number, day in reps:
            if any(row["id_number"] == id_number for row in rows):
                continue  # the same person under a corrected name: no new term
            for row in rows:
                if row["ended_on"] is None:
                    row["ended_on"], row["end_reason"] = max(day, row["started_on"]), "变更法定代表人"
                    if "id" in row:
                        ended.append(
                            {"id": row["id"], "ended_on": row["ended_on"], "end_reason": row["end_reason"]}
                        )
            new = person(pk, name, id_number, day)
            started.append(new)
            rows = [new]
    loader.update(EnterprisePerson, ended)
    loader.insert(EnterprisePerson, started)


# --- Seeders --------------------------------------------------------------------------------------------
@register_seeder("enterprises.ftz_rules")
def seed_ftz_rules(ctx: DemoContext) -> int:
    created = ensure_ftz_rules(authority=ctx.authority)
    ctx.log(f"  自贸区地址规则：新建 {created} 条")
    return created


@register_seeder("enterprises.register", after=("enterprises.ftz_rules",))
def seed_register(ctx: DemoContext) -> int:
    return load_register(ctx)


# Early-pilot codes that fail only the GB 32100 check character, legally issued and confirmed by the manager.
DEMO_USCC_EXCEPTIONS = (
    ("广州港湾通达贸易有限公司", "914401157083912460", "F", dt.date(2015, 6, 8)),
    ("广州瑞航国际物流有限公司", "91440115MA59C7R270", "G", dt.date(2015, 9, 21)),
)


def _demo_user(username: str):
    from django.contrib.auth import get_user_model

    User = get_user_model()
    return User.objects.filter(username=username).first() or User.objects.filter(is_superuser=True).first()


@register_seeder("enterprises.demo_cases", after=("enterprises.register", "accounts.demo_users"))
def seed_demo_cases(ctx: DemoContext) -> int:
    """Two enterprises whose codes fail the check digit, confirmed by the manager as legally issued.

    (The identity-misuse locks are the investigations demo's: its cases lock their enterprises through the
    services, each lock naming a real case.)"""
    rng = ctx.rng("enterprises.demo_cases")
    authority = ctx.authority
    manager = _demo_user("manager")
    if manager is None:
        ctx.log("  没有可用的演示用户，跳过代码例外示例")
        return 0
    created = 0
    street_ids = dict(Street.objects.filter(division_code=authority.division_code).values_list("code", "id"))
    rules = ftz_rule_views(authority=authority)
    people = EnterpriseGenerator(
        rng=rng, year=ctx.year, division_code=authority.division_code, street_ids=street_ids, ftz_rules=rules
    )
    address = "广州市南沙区南沙街海滨路171号11楼1101房"
    street_id = street_ids["440115003"]
    rule = match_ftz_rule(address, street_id, rules)
    for name, uscc, industry, established in DEMO_USCC_EXCEPTIONS:
        if Enterprise.objects.filter(uscc=uscc).exists():
            continue
        rep_name, rep_id = people._person(established)
        enterprise = Enterprise(
            authority=authority,
            uscc=uscc,
            uscc_is_exception=True,
            name=name,
            name_initials=name_initials(name),
            entity_type=EntityType.LLC,
            legal_rep_name=rep_name,
            legal_rep_id_number=rep_id,
            registered_capital=Decimal("5000000.00"),
            established_on=established,
            business_scope=f"一般项目：{SCOPE_ITEMS[industry][0]}；{SCOPE_ITEMS[industry][1]}。{_SCOPE_TAIL}",
            industry=industry,
            address=address,
            street_id=street_id,
            in_ftz=rule is not None,
            ftz_area=rule.area_name if rule else "",
            ftz_rule_id=rule.id if rule else None,
        )
        enterprise._history_date = _at(established, 1)
        enterprise._change_reason = "设立登记"
        enterprise.save()
        exception = UsccException(
            authority=authority,
            uscc=uscc,
            failed_check="uscc_check_digit",
            reason="早期试点地区合法核发的代码，校验位不符；经核对原发照档案确认",
            confirmed_by=manager,
        )
        exception._history_user = manager
        # Confirmed when the enterprise was entered, not on the day the demo was seeded.
        with simulated_now(_at(established, 2)):
            exception.save()
        created += 2
    ctx.log(f"  代码校验例外 {len(DEMO_USCC_EXCEPTIONS)} 户")
    return created


# --- Person-roles (登记人员) ------------------------------------------------------------------------------
# About three per enterprise: the legal representative; for companies the shareholders (the legal
# representative usually among them), a supervisor and a liaison; some companies registered through one
# of a pool of agencies' agents (委托代理人), who therefore appear on many enterprises, as they do.
COMPANY_TYPES = {EntityType.LLC, EntityType.JOINT_STOCK, EntityType.FOREIGN_INVESTED}
AGENT_POOL_SIZE = 200
AGENT_RATE = 0.25
SECOND_SHAREHOLDER_RATE = 0.6
OWN_LIAISON_RATE = 0.5
SHOP_LIAISON_RATE = 0.3
PERSON_COLUMNS = ("id", "entity_type", "established_on", "legal_rep_name", "legal_rep_id_number")


class PersonRoleGenerator:
    """Draws the person-roles of enterprises from its own Random (the register's draws stay as they were)."""

    def __init__(self, *, rng: random.Random, year: int, division_code: str, street_ids: dict[str, int]):
        self.rng = rng
        self.people = EnterpriseGenerator(
            rng=rng, year=year, division_code=division_code, street_ids=street_ids, ftz_rules=()
        )
        self.contacts: dict[str, tuple[str, str, str]] = {}
        self.street_codes = sorted(STREET_ROADS)
        self.agents = [self._new_person(dt.date(2015, 1, 1)) for _ in range(AGENT_POOL_SIZE)]

    def _phone(self) -> str:
        return "1" + self.rng.choice("3578") + "".join(self.rng.choice("0123456789") for _ in range(9))

    def _home(self) -> str:
        rng = self.rng
        code = rng.choice(self.street_codes)
        place, _ = STREET_ROADS[code]
        road = self.people.roads[code].pick(rng)
        return (
            f"广州市南沙区{place}{road}{rng.randint(1, 300)}号{rng.randint(1, 28)}{rng.randint(1, 8):02d}房"
        )

    def contact(self, id_number: str) -> tuple[str, str, str]:
        """(phone, home address, its key): a person keeps them across the enterprises they are in."""
        found = self.contacts.get(id_number)
        if found is None:
            home = self._home()
            found = self.contacts[id_number] = (self._phone(), home, address_key(home))
            if len(self.contacts) > 20000:
                self.contacts.pop(next(iter(self.contacts)))
        return found

    def _new_person(self, established: dt.date) -> tuple[str, str]:
        return self.people._person(established)

    def roles(
        self,
        *,
        enterprise_id: int,
        entity_type: str,
        established: dt.date,
        rep: tuple[str, str],
        with_rep: bool,
    ) -> list[tuple[str, str, str, Decimal | None]]:
        """(role, name, id_number, share ratio) of one enterprise."""
        rng = self.rng
        rows: list[tuple[str, str, str, Decimal | None]] = []
        if with_rep:
            rows.append((PersonRole.LEGAL_REP, rep[0], rep[1], None))
        if entity_type in COMPANY_TYPES:
            if rng.random() < SECOND_SHAREHOLDER_RATE:
                own = rng.choice((51, 60, 60, 70, 80, 90))
                other = self._new_person(established)
                rows.append((PersonRole.SHAREHOLDER, rep[0], rep[1], Decimal(own)))
                rows.append((PersonRole.SHAREHOLDER, other[0], other[1], Decimal(100 - own)))
            else:
                rows.append((PersonRole.SHAREHOLDER, rep[0], rep[1], Decimal(100)))
            supervisor = self._new_person(established)
            rows.append((PersonRole.SUPERVISOR, supervisor[0], supervisor[1], None))
            liaison = rep if rng.random() < OWN_LIAISON_RATE else self._new_person(established)
            rows.append((PersonRole.LIAISON, liaison[0], liaison[1], None))
            if established.year >= 2015 and rng.random() < AGENT_RATE:
                agent = rng.choice(self.agents)
                rows.append((PersonRole.AGENT, agent[0], agent[1], None))
        elif rng.random() < SHOP_LIAISON_RATE:
            rows.append((PersonRole.LIAISON, rep[0], rep[1], None))
        return rows


def load_person_roles(ctx: DemoContext) -> int:
    """Write the person-roles of ctx.authority's enterprises that have none besides a legal representative
    (a register backfilled by migration 0007 has those); returns the rows written.

    Bulk-written without simple_history rows, like the million-row benches: at ~190k rows the history
    would double the first start of `make run` for rows nobody edits.
    """
    authority = ctx.authority
    street_ids = dict(Street.objects.filter(division_code=authority.division_code).values_list("code", "id"))
    generator = PersonRoleGenerator(
        rng=ctx.rng("enterprises.persons"),
        year=ctx.year,
        division_code=authority.division_code,
        street_ids=street_ids,
    )
    people = EnterprisePerson.objects.filter(enterprise__authority=authority)
    has_others = set(people.exclude(role=PersonRole.LEGAL_REP).values_list("enterprise_id", flat=True))
    has_rep = set(people.filter(role=PersonRole.LEGAL_REP).values_list("enterprise_id", flat=True))
    writer = RawLoader()
    now = timezone.now()
    written = 0
    last = 0
    while True:
        batch = list(
            Enterprise.objects.filter(authority=authority, pk__gt=last)
            .order_by("pk")
            .values_list(*PERSON_COLUMNS)[:BATCH_SIZE]
        )
        if not batch:
            break
        last = batch[-1][0]
        rows = []
        for pk, entity_type, established, rep_name, rep_id in batch:
            if pk in has_others:
                continue
            for role, name, id_number, ratio in generator.roles(
                enterprise_id=pk,
                entity_type=entity_type,
                established=established,
                rep=(rep_name, rep_id),
                with_rep=pk not in has_rep,
            ):
                phone, home, home_key = generator.contact(id_number)
                rows.append(
                    {
                        "created_at": now,
                        "updated_at": now,
                        "enterprise_id": pk,
                        "role": str(role),
                        "name": name,
                        "id_number": id_number,
                        "phone": phone,
                        "address": home,
                        "address_key": home_key,
                        "share_ratio": ratio,
                        "started_on": established,
                        "ended_on": None,
                        "end_reason": "",
                    }
                )
        writer.insert(EnterprisePerson, rows)
        written += len(rows)
    ctx.log(f"  登记人员 {written} 条")
    return written


@register_seeder("enterprises.persons", after=("enterprises.register", "enterprises.demo_cases"))
def seed_persons(ctx: DemoContext) -> int:
    return load_person_roles(ctx)


# --- One ring of false registrations (冒用身份虚假注册) ---------------------------------------------------


@dataclass(frozen=True)
class RingEnterprise:
    uscc: str
    name: str
    established_on: dt.date
    address: str
    victim_name: str
    victim_id_number: str


@dataclass(frozen=True)
class IdentityMisuseRing:
    """The demo's ring: one agent registering enterprises in the names of people whose identities were
    used, at a few shared addresses. The investigations demo builds its reports and cases from this."""

    agent_name: str
    agent_id_number: str
    agent_phone: str
    addresses: tuple[str, ...]
    enterprises: tuple[RingEnterprise, ...]

    @property
    def victim_id_numbers(self) -> tuple[str, ...]:
        return tuple(e.victim_id_number for e in self.enterprises)

    @property
    def usccs(self) -> tuple[str, ...]:
        return tuple(e.uscc for e in self.enterprises)


RING_SIZE = 12
RING_NAMES = (
    ("冯", "国栋"), ("钟", "丽娟"), ("谢", "志坚"), ("蔡", "美玲"), ("彭", "家乐"), ("潘", "秀英"),
    ("邱", "振华"), ("温", "淑仪"), ("袁", "俊杰"), ("莫", "晓燕"), ("江", "永强"), ("方", "佩珊"),
)  # fmt: skip
RING_ADDRESSES = (
    "广州市南沙区南沙街进港大道12号1902房（仅限办公）",
    "广州市南沙区黄阁镇麒麟一路8号306房",
    "广州市南沙区横沥镇汇通二街2号1117房（仅限办公）",
)
RING_WORDS = ("供应链管理", "国际贸易", "商贸", "贸易发展", "实业", "电子商务")


def identity_misuse_ring(year: int = 2023) -> IdentityMisuseRing:
    """The demo year's ring (pure: the same year gives the same people and codes on any database)."""
    rng = random.Random(f"identity-misuse-ring:{year}")
    enterprises = []
    for n, (surname, given) in enumerate(RING_NAMES[:RING_SIZE]):
        birth = dt.date(rng.randint(1958, 1998), rng.randint(1, 12), rng.randint(1, 28))
        area = rng.choice(_id_area_codes_by_year()[birth.year])
        victim_id = build_resident_id(area, birth, rng.randrange(0, 500) * 2 + (n % 2))
        established = dt.date(year, 2, 6) + dt.timedelta(days=23 * n + rng.randint(0, 9))
        established = _working_day_from(established, dt.date(year, 12, 31))
        brand = "".join(rng.choice(BRAND_CHARS) for _ in range(2))
        enterprises.append(
            RingEnterprise(
                uscc=build_uscc(NANSHA, random_org_body(rng)),
                name=f"广州{brand}{RING_WORDS[n % len(RING_WORDS)]}有限公司",
                established_on=established,
                # The same three places, written as a hurried form-filler writes them.
                address=RING_ADDRESSES[n % 3] if n < 6 else RING_ADDRESSES[n % 3].replace("号", " 号 "),
                victim_name=surname + given,
                victim_id_number=victim_id,
            )
        )
    return IdentityMisuseRing(
        agent_name="邝志雄",
        agent_id_number=build_resident_id("440111", dt.date(1983, 9, 14), 457),
        agent_phone="13925836417",
        addresses=RING_ADDRESSES,
        enterprises=tuple(enterprises),
    )


# Before the registration year, whose 设立 cases include the ring's; its own person-roles keep
# enterprises.persons from drawing others for it.
@register_seeder("enterprises.identity_ring", after=("enterprises.register", "accounts.demo_users"))
def seed_identity_ring(ctx: DemoContext) -> int:
    """The ring's enterprises as the clerk registered them on their establishment days: the victim as
    legal representative and sole shareholder, the agent as 委托代理人 and 联络员 (his phone on every one).

    Written like the other demo rows (history dated on the day, by the clerk) rather than through the
    services, which date history now.
    """
    clerk = _demo_user("clerk")
    if clerk is None:
        ctx.log("  没有可用的演示用户，跳过冒用身份示例")
        return 0
    ring = identity_misuse_ring(ctx.year)
    authority = ctx.authority
    street_ids = dict(Street.objects.filter(division_code=authority.division_code).values_list("code", "id"))
    rules = ftz_rule_views(authority=authority)
    street_of = {"南沙街": "440115003", "黄阁镇": "440115102", "横沥镇": "440115101"}
    created = 0
    for n, e in enumerate(ring.enterprises):
        if Enterprise.objects.filter(uscc=e.uscc).exists():
            continue
        street_id = street_ids[next(code for place, code in street_of.items() if place in e.address)]
        rule = match_ftz_rule(e.address, street_id, rules)
        when = _at(e.established_on, 3600 + n * 97)
        enterprise = Enterprise(
            authority=authority,
            uscc=e.uscc,
            name=e.name,
            name_initials=name_initials(e.name),
            entity_type=EntityType.LLC,
            legal_rep_name=e.victim_name,
            legal_rep_id_number=e.victim_id_number,
            registered_capital=Decimal("1000000.00"),
            established_on=e.established_on,
            business_scope=f"一般项目：{SCOPE_ITEMS['F'][0]}；{SCOPE_ITEMS['F'][1]}。{_SCOPE_TAIL}",
            industry="F",
            address=e.address,
            street_id=street_id,
            in_ftz=rule is not None,
            ftz_area=rule.area_name if rule else "",
            ftz_rule_id=rule.id if rule else None,
        )
        enterprise._history_date = when
        enterprise._history_user = clerk
        enterprise._change_reason = "设立登记（全程电子化，委托代理）"
        enterprise.save()
        people = [
            (PersonRole.LEGAL_REP, e.victim_name, e.victim_id_number, "", "", None),
            (PersonRole.SHAREHOLDER, e.victim_name, e.victim_id_number, "", "", Decimal(100)),
        ] + [
            (role, ring.agent_name, ring.agent_id_number, ring.agent_phone, ring.addresses[0], None)
            for role in (PersonRole.AGENT, PersonRole.LIAISON)
        ]
        for role, name, id_number, phone, address, ratio in people:
            person = EnterprisePerson(
                enterprise=enterprise,
                role=role,
                name=name,
                id_number=id_number,
                phone=phone,
                address=address,
                share_ratio=ratio,
                started_on=e.established_on,
            )
            person._history_date = when
            person._history_user = clerk
            person._change_reason = "设立登记"
            person.save()
        created += 1
    ctx.log(f"  冒用身份示例：{created} 户企业经同一代理人登记")
    return created
