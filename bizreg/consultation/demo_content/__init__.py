"""The demo knowledge base: articles on commercial registration written for the Nansha demo authority.

Each part module (`establishment`, `names_scope_capital`, …) holds a list `ARTICLES` of `DemoArticle`. The
codes follow blocks by area (KB-01xx 设立, KB-02xx 名称, KB-03xx 经营范围, KB-04xx 注册资本, KB-05xx 住所,
KB-06xx 变更, KB-07xx 备案, KB-08xx 注销, KB-09xx 迁移, KB-10xx 一网通办, KB-11xx 电子营业执照,
KB-12xx 执照领取, KB-13xx 档案, KB-14xx 冒用身份, KB-15xx 年报, KB-16xx 进度, KB-17xx 材料规范,
KB-18xx 收费/时限/服务, KB-19xx 外商投资, KB-20xx 内部口径, KB-21xx 开办后续, KB-22xx 信用), so the
knowledge services' next code (highest KB- number + 1) never collides with them.

The texts follow REFERENCE.md's registration-law facts (form review, on the spot or within 3 working days,
registration free of charge). Legal bases cite an article number only where it is certain; otherwise the
law alone. The same articles feed the seeder (bizreg.consultation.demo) and the retrieval bench
(bench/qa_retrieval.py with bench/data/qa_eval.json), which reads them through `all_articles()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module

PART_MODULES = (
    "establishment",
    "names_scope_capital",
    "changes_filings",
    "deregistration_migration",
    "online_licence",
    "archives_misuse_reports",
    "materials_service",
)


@dataclass(frozen=True)
class DemoArticle:
    code: str
    topic: str  # a CallTopic value
    title: str  # the standard question
    variants: tuple[str, ...]  # other ways people ask it (问法)
    answer: str
    legal_basis: str = ""
    case_types: tuple[str, ...] = ()  # registration CaseType values
    visibility: str = "public"  # Visibility value

    @property
    def question_variants(self) -> str:
        """The variants as ArticleVersion.question_variants stores them: one per line."""
        return "\n".join(self.variants)


def A(  # noqa: N802 - a short constructor keeps the content files readable as data
    code: str,
    topic: str,
    title: str,
    variants: list[str] | tuple[str, ...],
    answer: str,
    legal_basis: str = "",
    case_types: list[str] | tuple[str, ...] = (),
    visibility: str = "public",
) -> DemoArticle:
    return DemoArticle(
        code=code,
        topic=topic,
        title=title.strip(),
        variants=tuple(v.strip() for v in variants if v.strip()),
        answer=" ".join(answer.split()),
        legal_basis=legal_basis.strip(),
        case_types=tuple(case_types),
        visibility=visibility,
    )


def all_articles() -> list[DemoArticle]:
    """Every demo article, in code order."""
    articles: list[DemoArticle] = []
    for name in PART_MODULES:
        try:
            module = import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:  # a part still being written; the others stay usable
            if exc.name != f"{__name__}.{name}":
                raise
            continue
        articles.extend(module.ARTICLES)
    return sorted(articles, key=lambda a: a.code)


# Abbreviations and everyday words people use, rewritten by the engine to the term the articles use.
SYNONYMS: tuple[tuple[str, str], ...] = (
    ("个体户", "个体工商户"),
    ("执照", "营业执照"),
    ("牌照", "营业执照"),
    ("营业证", "营业执照"),
    ("电子执照", "电子营业执照"),
    ("信用代码", "统一社会信用代码"),
    ("社会信用代码", "统一社会信用代码"),
    ("税号", "统一社会信用代码"),
    ("法人", "法定代表人"),
    ("法人代表", "法定代表人"),
    ("法代", "法定代表人"),
    ("网办", "一网通办"),
    ("网上办", "一网通办"),
    ("网上办理", "一网通办"),
    ("全程网办", "全程电子化"),
    ("无纸化", "全程电子化"),
    ("个独", "个人独资企业"),
    ("独资企业", "个人独资企业"),
    ("有限公司", "有限责任公司"),
    ("一人公司", "一人有限责任公司"),
    ("股份公司", "股份有限公司"),
    ("外企", "外商投资企业"),
    ("外资企业", "外商投资企业"),
    ("外资", "外商投资企业"),
    ("港资", "外商投资企业"),
    ("分店", "分公司"),
    ("合作社", "农民专业合作社"),
    ("注册资金", "注册资本"),
    ("认缴资本", "注册资本"),
    ("地址", "住所"),
    ("注册地址", "住所"),
    ("办公地址", "住所"),
    ("挂靠地址", "集群注册"),
    ("托管地址", "集群注册"),
    ("开公司", "设立登记"),
    ("办执照", "设立登记"),
    ("改名", "名称变更"),
    ("换名字", "名称变更"),
    ("起名", "名称自主申报"),
    ("核名", "名称自主申报"),
    ("查名", "名称自主申报"),
    ("字号", "名称"),
    ("转股", "股权转让"),
    ("股份转让", "股权转让"),
    ("换法人", "法定代表人变更"),
    ("换股东", "股东变更"),
    ("增资", "增加注册资本"),
    ("减资", "减少注册资本"),
    ("迁址", "住所变更"),
    ("搬家", "住所变更"),
    ("关公司", "注销登记"),
    ("注销公司", "注销登记"),
    ("年检", "年度报告"),
    ("年报", "年度报告"),
    ("异常名录", "经营异常名录"),
    ("黑名单", "严重违法失信名单"),
    ("调档", "迁移调档"),
    ("调档函", "迁移调档函"),
    ("档案", "登记档案"),
    ("查档", "档案查询"),
    ("被冒名", "冒用身份"),
    ("冒名", "冒用身份"),
    ("被注册", "冒用身份"),
    ("盗用身份证", "冒用身份"),
    ("董监高", "董事监事经理"),
    ("高管", "董事监事经理"),
    ("联系人", "联络员"),
    ("委托书", "授权委托书"),
    ("代办", "委托代理人"),
    ("公章", "印章"),
    ("刻章", "印章刻制"),
    ("税务登记", "税务报到"),
    ("自贸区", "自由贸易试验区"),
    ("自贸试验区", "自由贸易试验区"),
    ("负面清单", "外商投资准入特别管理措施"),
    ("多少钱", "收费"),
    ("要钱吗", "收费"),
    ("几天", "办理时限"),
    ("多久", "办理时限"),
    ("进度", "办理进度"),
    ("丢了", "遗失"),
    ("掉了", "遗失"),
    ("补办", "补领"),
    ("快递", "邮寄"),
    ("寄到家", "邮寄"),
    ("身份证", "身份证件"),
    ("护照", "身份证件"),
    ("回乡证", "港澳居民来往内地通行证"),
    ("公证", "公证认证"),
    ("海牙认证", "附加证明书"),
    ("apostille", "附加证明书"),
)
