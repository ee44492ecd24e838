"""The public knowledge base on the portal (no login): browse by topic and case type, search, read one
article. Only public articles' published versions of articles in use are shown; anything else is a 404.
Each article view is counted as a use (public_view). Search goes through the answering engine's
retrieval (the same index the portal chat uses), rate-limited per visitor address.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from bizreg.consultation.models import ArticleUsage, CallTopic
from bizreg.consultation.selectors import knowledge as selectors
from bizreg.consultation.services.knowledge import article_record_usage
from bizreg.portal import ratelimit
from bizreg.registration.models import CaseType

SEARCH_SCOPE = "consult.kb_search"
PAGE_SIZE = 30


def search_rate() -> ratelimit.Rate:
    return ratelimit.rate_from_settings("CONSULTATION_KB_SEARCH_RATE_LIMIT", (60, 60))


def _base_context(request) -> dict:
    code = (request.GET.get("authority") or "").strip()[:32]
    authority = selectors.public_authority(code or None)
    return {"authority": authority, "authority_query": f"authority={authority.code}" if code else ""}


@require_GET
def kb_index(request):
    context = _base_context(request)
    authority = context["authority"]
    topic = request.GET.get("topic", "")
    case_type = request.GET.get("case_type", "")
    topic = topic if topic in CallTopic.values else ""
    case_type = case_type if case_type in CaseType.values else ""
    versions = selectors.public_browse(authority=authority, topic=topic, case_type=case_type)
    page = Paginator(versions, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context.update(
        {
            "page": page,
            "query": query.urlencode(),
            "facets": selectors.public_facets(authority=authority),
            "topic": topic,
            "case_type": case_type,
            "topic_label": dict(CallTopic.choices).get(topic, ""),
            "case_type_label": dict(CaseType.choices).get(case_type, ""),
        }
    )
    return render(request, "consultation/public/kb_index.html", context)


@require_GET
def kb_search(request):
    context = _base_context(request)
    raw = request.GET.get("q", "")
    q = raw.strip()
    context.update({"q": q[: selectors.QUERY_MAX], "hits": [], "too_long": len(q) > selectors.QUERY_MAX})
    if not q:
        context["message"] = _("请输入要查询的问题，例如“个体户怎么注销”。")
        return render(request, "consultation/public/kb_search.html", context)
    if not ratelimit.allow_request(request, scope=SEARCH_SCOPE, rate=search_rate()):
        context["message"] = _("查询过于频繁，请稍后再试。")
        response = render(request, "consultation/public/kb_search.html", context, status=429)
        response["Retry-After"] = str(search_rate().window)
        return response
    context["hits"] = selectors.public_search(authority=context["authority"], query=q)
    if not context["hits"]:
        context["message"] = _(
            "没有找到相关的知识条目。您可以换一种问法，或通过在线咨询、热线向工作人员咨询。"
        )
    return render(request, "consultation/public/kb_search.html", context)


@require_GET
def kb_article(request, code: str):
    context = _base_context(request)
    version = selectors.public_article(authority=context["authority"], code=code)
    article_record_usage(version=version, kind=ArticleUsage.Kind.PUBLIC_VIEW)
    context.update(
        {
            "version": version,
            "article": version.article,
            "case_type_labels": selectors.case_type_labels(version.case_types),
        }
    )
    return render(request, "consultation/public/kb_article.html", context)


urlpatterns = [
    path("kb/", kb_index, name="kb_index"),
    path("kb/search/", kb_search, name="kb_search"),
    path("kb/<str:code>/", kb_article, name="kb_article"),
]
