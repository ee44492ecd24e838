"""A small knowledge base for the engine tests: real-sounding articles written straight into the tables
(published versions, Article.published_version set, revision bumped), as the knowledge services leave them."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from bizreg.consultation.models import Article, ArticleVersion, ArticleVersionState, Visibility
from bizreg.consultation.services.knowledge import kb_revision_bump

REG = "《中华人民共和国市场主体登记管理条例》"

ARTICLES: list[dict] = [
    {
        "code": "KB-0001",
        "title": "个体工商户怎么办理营业执照？",
        "variants": "开个体工商户需要什么材料\n个体工商户设立登记流程",
        "answer": "个体工商户设立登记可通过一网通办平台全程电子化办理，提交经营者身份证件、经营场所使用证明和"
        "登记申请书即可。材料齐全、符合法定形式的，当场或者在3个工作日内予以登记并发放营业执照。",
        "legal_basis": f"{REG}第十九条",
    },
    {
        "code": "KB-0002",
        "title": "营业执照遗失了怎么补领？",
        "variants": "营业执照丢失如何补办\n执照损坏了可以换新的吗",
        "answer": "营业执照遗失或者毁坏的，可以通过国家企业信用信息公示系统自行公示遗失声明，然后申请补领。"
        "补领只需提交补领申请书，登记机关核对后重新打印营业执照，可以窗口领取，也可以选择免费邮寄。",
        "legal_basis": "《市场主体登记管理条例实施细则》",
    },
    {
        "code": "KB-0003",
        "title": "怎样办理简易注销？",
        "variants": "简易注销需要满足什么条件\n没有债务的公司能不能走简易注销",
        "answer": "未发生债权债务或者已将债权债务清偿完结的市场主体，"
        "可以申请简易注销。先在国家企业信用信息公示系统"
        "进行20日的简易注销公告，公告期满无异议的，提交简易注销登记申请书和全体投资人承诺书即可办理。",
        "legal_basis": f"{REG}第三十三条",
    },
    {
        "code": "KB-0004",
        "title": "变更法定代表人需要哪些材料？",
        "variants": "公司换法定代表人怎么办理\n法定代表人变更登记流程",
        "answer": "变更法定代表人需提交变更登记申请书、股东会决议或者股东决定、"
        "新任法定代表人的任职文件和身份证件。"
        "变更应当自作出变更决议之日起30日内申请办理。",
        "legal_basis": REG,
    },
    {
        "code": "KB-0005",
        "title": "统一社会信用代码在哪里查询？",
        "variants": "怎么查企业的统一社会信用代码",
        "answer": "统一社会信用代码印在营业执照上，也可以在国家企业信用信息公示系统输入企业名称查询。",
        "legal_basis": "",
    },
    {
        "code": "KB-0006",
        "title": "注册资本可以认缴吗？需要实缴吗？",
        "variants": "注册资本认缴期限是多久\n注册资本要不要一次交齐",
        "answer": "有限责任公司的注册资本实行认缴登记制，全体股东认"
        "缴的出资额应当按照公司章程的规定自公司成立之日起"
        "五年内缴足。登记时不需要提交验资报告。",
        "legal_basis": "《中华人民共和国公司法》第四十七条",
    },
    {
        "code": "KB-0007",
        "title": "股权转让怎么办理变更登记？",
        "variants": "股东转让股权要准备哪些材料\n股权变更流程",
        "answer": "股权转让后，公司应当提交变更登记申请书、股权转让协议、"
        "股东会决议和修改后的公司章程，办理股东变更登记。",
        "legal_basis": "《中华人民共和国公司法》",
    },
    {
        "code": "KB-0008",
        "title": "办理企业登记收费吗？",
        "variants": "营业执照办理要交钱吗\n企业登记要多少费用",
        "answer": "企业登记不收取任何费用，营业执照（含副本和电子营业执照）免费发放，邮寄营业执照也免费。",
        "legal_basis": "",
    },
    {
        "code": "KB-0009",
        "title": "受理冒用身份撤销登记申请的内部审核口径",
        "variants": "冒用身份登记的调查要点\n冒名登记撤销内部流程",
        "answer": "窗口受理冒用身份撤销登记申请后，应当在3个工作日内完成研判，必要时进行实地核查，"
        "并形成意见书报科室负责人审核。",
        "legal_basis": REG,
        "visibility": Visibility.INTERNAL,
    },
    {
        "code": "KB-0010",
        "title": "经营范围应该怎么填写？",
        "variants": "经营范围可以写哪些内容\n经营范围规范表述怎么选",
        "answer": "经营范围应当按照经营范围规范表述目录选择填报，涉及许可项目的，"
        "应当在取得许可后方可开展经营。",
        "legal_basis": REG,
    },
]


def publish_article(
    authority, author, *, code, title, answer, variants="", legal_basis="", visibility="public"
):
    """One article with one published version, the revision bumped (what publishing leaves behind)."""
    article = Article.objects.create(
        authority=authority, code=code, owner=author, review_by=timezone.localdate() + dt.timedelta(days=180)
    )
    version = ArticleVersion.objects.create(
        article=article,
        number=1,
        state=ArticleVersionState.PUBLISHED,
        title=title,
        question_variants=variants,
        answer=answer,
        legal_basis=legal_basis,
        visibility=visibility,
        author=author,
        published_at=timezone.now(),
    )
    article.published_version = version
    article.save(update_fields=["published_version"])
    kb_revision_bump(authority.pk)
    return article


def build_kb(authority, author) -> dict[str, Article]:
    return {spec["code"]: publish_article(authority, author, **spec) for spec in ARTICLES}
