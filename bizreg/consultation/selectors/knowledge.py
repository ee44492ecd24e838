"""Reads of the knowledge base for the staff pages, the API and the public KB.

Staff reads are scoped to the user's authorities (another authority's article does not exist for the user:
404). Public reads see only public articles' published versions of articles in use, of one authority.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from bizreg.consultation import engine
from bizreg.consultation.models import (
    ARTICLE_VERSION_WORKFLOW,
    Article,
    ArticleTransitionLog,
    ArticleUsage,
    ArticleVersion,
    ArticleVersionState,
    CallTopic,
    KnowledgeGap,
    Synonym,
    Visibility,
)
from bizreg.consultation.services.knowledge import (
    ACTION_LABELS,
    EDITABLE_STATES,
    SOON_STALE_DAYS,
    UNPUBLISHED_STATES,
    stale_condition,
)
from bizreg.core.models import Authority
from bizreg.core.scoping import scope_to_user
from bizreg.core.selectors import portal_authority
from bizreg.registration.models import CaseType

PAGE_SIZE = 50
EXPORT_MAX_ROWS = 20_000
USAGE_RECENT_DAYS = 30

STATUS_CHOICES = (
    ("published", "已发布（在用）"),
    ("in_review", "有待审核版本"),
    ("draft", "有草稿/退回版本"),
    ("unpublished", "从未发布"),
    ("retired", "已停用"),
)
FRESHNESS_CHOICES = (
    ("stale", "已过复核期限"),
    ("soon", f"{SOON_STALE_DAYS} 天内到期"),
    ("mine_stale", "我负责的过期条目"),
)
SORTS = {
    "code": ("code",),
    "-usage": ("-usage_count", "code"),
    "review_by": ("review_by", "code"),
    "-updated": ("-updated_at", "code"),
}
SORT_CHOICES = (
    ("code", "条目编号"),
    ("-usage", "使用次数（多→少）"),
    ("review_by", "复核期限（近→远）"),
    ("-updated", "最近更新"),
)


# --- scope ---------------------------------------------------------------------------------------------


def articles_visible_to(user) -> QuerySet[Article]:
    return scope_to_user(Article.objects.all(), user)


def _int_or_404(pk: Any, message: str) -> int:
    try:
        return int(pk)
    except (TypeError, ValueError):
        raise Http404(message) from None


def article_for(*, user, pk: Any) -> Article:
    """The article if the user may see it; 404 alike for "not yours" and "does not exist"."""
    message = _("没有找到该知识条目。")
    article = (
        articles_visible_to(user)
        .select_related("authority", "owner", "published_version")
        .filter(pk=_int_or_404(pk, message))
        .first()
    )
    if article is None:
        raise Http404(message)
    return article


def version_for(*, user, pk: Any) -> ArticleVersion:
    message = _("没有找到该版本。")
    version = (
        ArticleVersion.objects.filter(article__in=articles_visible_to(user), pk=_int_or_404(pk, message))
        .select_related("article", "article__authority", "author", "reviewer")
        .first()
    )
    if version is None:
        raise Http404(message)
    return version


def gaps_visible_to(user) -> QuerySet[KnowledgeGap]:
    return scope_to_user(KnowledgeGap.objects.all(), user)


def gap_for(*, user, pk: Any) -> KnowledgeGap:
    message = _("没有找到该知识缺口。")
    gap = gaps_visible_to(user).filter(pk=_int_or_404(pk, message)).first()
    if gap is None:
        raise Http404(message)
    return gap


def synonym_for(*, pk: Any) -> Synonym:
    message = _("没有找到该同义词。")
    synonym = Synonym.objects.filter(pk=_int_or_404(pk, message)).first()
    if synonym is None:
        raise Http404(message)
    return synonym


# --- the staff list ------------------------------------------------------------------------------------


def _latest_version_id() -> Subquery:
    return Subquery(
        ArticleVersion.objects.filter(article=OuterRef("pk")).order_by("-number").values("pk")[:1]
    )


def with_current_version(queryset: QuerySet[Article]) -> QuerySet[Article]:
    """Annotate `current_version_id`: the published version, else the newest draft (what the list shows)."""
    return queryset.annotate(current_version_id=Coalesce("published_version_id", _latest_version_id()))


def _current_matches(condition: Q) -> Exists:
    return Exists(ArticleVersion.objects.filter(condition, pk=OuterRef("current_version_id")))


def article_search(*, user, filters: Mapping[str, Any], today: dt.date | None = None) -> QuerySet[Article]:
    """Articles matching the list's filters (cleaned data of KnowledgeFilterForm), sorted."""
    today = today or timezone.localdate()
    queryset = with_current_version(articles_visible_to(user)).select_related("owner")
    q = (filters.get("q") or "").strip()
    if q:
        # Any version's text: staff look for drafts as well as the published wording.
        text = Q(title__icontains=q) | Q(question_variants__icontains=q) | Q(answer__icontains=q)
        queryset = queryset.filter(
            Q(code__iexact=q) | Exists(ArticleVersion.objects.filter(text, article=OuterRef("pk")))
        )
    if filters.get("case_type"):
        # JSON text contains the quoted value: "deregistration" does not match "simple_deregistration".
        queryset = queryset.filter(_current_matches(Q(case_types__icontains=f'"{filters["case_type"]}"')))
    if filters.get("topic"):
        queryset = queryset.filter(_current_matches(Q(topic=filters["topic"])))
    if filters.get("visibility"):
        queryset = queryset.filter(_current_matches(Q(visibility=filters["visibility"])))
    if filters.get("owner"):
        queryset = queryset.filter(owner=filters["owner"])
    status = filters.get("status")
    if status == "published":
        queryset = queryset.filter(published_version__isnull=False, is_retired=False)
    elif status == "in_review":
        queryset = queryset.filter(versions__state=ArticleVersionState.IN_REVIEW).distinct()
    elif status == "draft":
        queryset = queryset.filter(versions__state__in=EDITABLE_STATES).distinct()
    elif status == "unpublished":
        queryset = queryset.filter(published_version__isnull=True)
    elif status == "retired":
        queryset = queryset.filter(is_retired=True)
    freshness = filters.get("freshness")
    if freshness == "stale":
        queryset = queryset.filter(stale_condition(today))
    elif freshness == "soon":
        queryset = queryset.filter(soon_stale_condition(today))
    elif freshness == "mine_stale":
        queryset = queryset.filter(stale_condition(today), owner=user)
    return queryset.order_by(*SORTS.get(filters.get("sort") or "code", SORTS["code"]))


def soon_stale_condition(today: dt.date) -> Q:
    return Q(
        published_version__isnull=False,
        is_retired=False,
        review_by__gte=today,
        review_by__lte=today + dt.timedelta(days=SOON_STALE_DAYS),
    )


@dataclass
class ArticleRow:
    article: Article
    current: ArticleVersion | None
    pending: ArticleVersion | None  # the newest unpublished version, if any
    usage_recent: int
    freshness: str  # "stale", "soon" or ""


@dataclass
class ArticleListing:
    page: Page
    rows: list[ArticleRow] = field(default_factory=list)


def freshness_of(article: Article, today: dt.date) -> str:
    if article.published_version_id is None or article.is_retired:
        return ""
    if article.review_by < today:
        return "stale"
    if article.review_by <= today + dt.timedelta(days=SOON_STALE_DAYS):
        return "soon"
    return ""


def usage_since(article_ids: list[int], since: dt.datetime) -> dict[int, int]:
    """Uses per article since `since` (counted for one page of articles, not the whole table)."""
    rows = (
        ArticleUsage.objects.filter(article_id__in=article_ids, used_at__gte=since)
        .values("article_id")
        .annotate(n=Count("id"))
    )
    return {row["article_id"]: row["n"] for row in rows}


def build_rows(articles: list[Article], today: dt.date | None = None) -> list[ArticleRow]:
    """The list's rows for a page of articles in a fixed number of queries."""
    today = today or timezone.localdate()
    ids = [a.pk for a in articles]
    current_ids = [getattr(a, "current_version_id", None) or a.published_version_id for a in articles]
    versions = ArticleVersion.objects.in_bulk([pk for pk in current_ids if pk])
    pending: dict[int, ArticleVersion] = {}
    for version in ArticleVersion.objects.filter(article_id__in=ids, state__in=UNPUBLISHED_STATES).order_by(
        "number"
    ):
        pending[version.article_id] = version  # the newest wins
    recent = usage_since(ids, timezone.now() - dt.timedelta(days=USAGE_RECENT_DAYS))
    return [
        ArticleRow(
            article=article,
            current=versions.get(current_id),
            pending=pending.get(article.pk),
            usage_recent=recent.get(article.pk, 0),
            freshness=freshness_of(article, today),
        )
        for article, current_id in zip(articles, current_ids, strict=True)
    ]


def article_listing(*, user, filters: Mapping[str, Any], page: Any = None) -> ArticleListing:
    paginator = Paginator(article_search(user=user, filters=filters), PAGE_SIZE)
    current = paginator.get_page(page)
    return ArticleListing(page=current, rows=build_rows(list(current.object_list)))


@dataclass(frozen=True)
class FreshnessSummary:
    stale: int
    soon: int
    mine_stale: int
    mine_flagged: int  # stale articles of mine that notify_stale_articles has flagged


def freshness_summary(*, user, today: dt.date | None = None) -> FreshnessSummary:
    today = today or timezone.localdate()
    visible = articles_visible_to(user)
    figures = visible.aggregate(
        stale=Count("pk", filter=stale_condition(today)),
        soon=Count("pk", filter=soon_stale_condition(today)),
        mine_stale=Count("pk", filter=stale_condition(today) & Q(owner=user)),
        mine_flagged=Count(
            "pk", filter=stale_condition(today) & Q(owner=user, stale_notified_at__isnull=False)
        ),
    )
    return FreshnessSummary(**figures)


def stale_flags_for(user) -> int:
    """How many of the user's own articles are flagged stale: for a dashboard or a menu badge."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return (
        articles_visible_to(user)
        .filter(stale_condition(timezone.localdate()), owner=user, stale_notified_at__isnull=False)
        .count()
    )


def freshness_lists(*, user, today: dt.date | None = None) -> dict[str, list[ArticleRow]]:
    """Stale articles (oldest review-by first) and those due within SOON_STALE_DAYS."""
    today = today or timezone.localdate()
    visible = with_current_version(articles_visible_to(user)).select_related("owner")
    stale = list(visible.filter(stale_condition(today)).order_by("review_by", "code")[:500])
    soon = list(visible.filter(soon_stale_condition(today)).order_by("review_by", "code")[:500])
    return {"stale": build_rows(stale, today), "soon": build_rows(soon, today)}


def owner_choices(*, user) -> QuerySet:
    from django.contrib.auth import get_user_model

    owner_ids = articles_visible_to(user).values("owner_id")
    return get_user_model().objects.filter(pk__in=owner_ids).order_by("username")


def owner_candidates(*, article: Article):
    """Staff of the article's authority who may maintain the knowledge base (for a change of owner)."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(is_active=True, authorities=article.authority_id).distinct()
    return [u for u in users.order_by("username") if u.has_perm("consultation.change_article")]


# --- one article ---------------------------------------------------------------------------------------


def article_versions(*, article: Article) -> list[ArticleVersion]:
    return list(article.versions.select_related("author", "reviewer").order_by("-number"))


def article_timeline(*, article: Article) -> list[ArticleTransitionLog]:
    logs = list(
        ArticleTransitionLog.objects.filter(version__article=article)
        .select_related("actor", "version")
        .order_by("-occurred_at", "-id")[:200]
    )
    for log in logs:
        log.action_label = ACTION_LABELS.get(log.action, log.action)
    return logs


def version_actions(*, version: ArticleVersion, user) -> list:
    """The workflow steps the user may take on the version now (supersede is never taken by hand)."""
    return [
        t
        for t in ARTICLE_VERSION_WORKFLOW.available(state=version.state, user=user)
        if t.action != "supersede" and not (t.action == "publish" and version.author_id == user.pk)
    ]


def usage_figures(*, article: Article) -> dict[str, Any]:
    since = timezone.now() - dt.timedelta(days=USAGE_RECENT_DAYS)
    by_kind = dict(
        article.usages.filter(used_at__gte=since).values_list("kind").annotate(n=Count("id")).order_by()
    )
    return {
        "all_time": article.usage_count,
        "recent": sum(by_kind.values()),
        "recent_by_kind": [(label, by_kind.get(value, 0)) for value, label in ArticleUsage.Kind.choices],
        "days": USAGE_RECENT_DAYS,
    }


def case_type_labels(values: list[str]) -> list[str]:
    labels = dict(CaseType.choices)
    return [labels.get(value, value) for value in values]


# --- diff ----------------------------------------------------------------------------------------------

DIFF_FIELDS = (
    ("title", "标准问题"),
    ("question_variants", "相似问法"),
    ("answer", "答案"),
    ("legal_basis", "政策法规依据"),
    ("case_types", "适用业务类型"),
    ("topic", "咨询主题"),
    ("visibility", "公开范围"),
)
# Character diffs are quadratic in the worst case; past this length the diff is taken line by line.
CHAR_DIFF_LIMIT = 6_000


@dataclass
class FieldDiff:
    name: str
    label: str
    changed: bool
    # (op, text) with op in "equal", "delete", "insert"; templates escape the text.
    segments: list[tuple[str, str]]


def _field_text(version: ArticleVersion, name: str) -> str:
    if name == "case_types":
        return "、".join(case_type_labels(version.case_types))
    if name == "topic":
        return version.get_topic_display() if version.topic else ""
    if name == "visibility":
        return version.get_visibility_display()
    return getattr(version, name) or ""


def text_diff(old: str, new: str) -> list[tuple[str, str]]:
    """Segments turning `old` into `new`; by character (Chinese has no word spaces), by line when long."""
    if len(old) + len(new) > CHAR_DIFF_LIMIT:
        a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    else:
        a, b = list(old), list(new)
    segments: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            segments.append(("equal", "".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            segments.append(("delete", "".join(a[i1:i2])))
        if op in ("insert", "replace"):
            segments.append(("insert", "".join(b[j1:j2])))
    return segments


def version_diff(old: ArticleVersion, new: ArticleVersion) -> list[FieldDiff]:
    diffs = []
    for name, label in DIFF_FIELDS:
        a, b = _field_text(old, name), _field_text(new, name)
        diffs.append(
            FieldDiff(name=name, label=label, changed=a != b, segments=text_diff(a, b) if a != b else [])
        )
    return diffs


# --- gaps ----------------------------------------------------------------------------------------------

GAP_SORTS = {
    "-occurrences": ("-occurrences", "-last_asked_at"),
    "-last_asked_at": ("-last_asked_at", "-id"),
    "best_score": ("best_score", "-occurrences"),
}
GAP_SORT_CHOICES = (
    ("-occurrences", "提问次数（多→少）"),
    ("-last_asked_at", "最近提问"),
    ("best_score", "匹配分（低→高）"),
)


def gap_search(*, user, filters: Mapping[str, Any]) -> QuerySet[KnowledgeGap]:
    queryset = gaps_visible_to(user).select_related("covered_by", "handled_by", "best_version")
    if filters.get("q"):
        queryset = queryset.filter(question__icontains=filters["q"].strip())
    status = filters.get("status")
    if status == "writing":
        queryset = queryset.filter(status=KnowledgeGap.Status.OPEN, covered_by__isnull=False)
    elif status:
        queryset = queryset.filter(status=status)
    if filters.get("channel"):
        queryset = queryset.filter(channel=filters["channel"])
    if filters.get("date_from"):
        start = timezone.make_aware(dt.datetime.combine(filters["date_from"], dt.time.min))
        queryset = queryset.filter(last_asked_at__gte=start)
    if filters.get("date_to"):
        end = timezone.make_aware(dt.datetime.combine(filters["date_to"] + dt.timedelta(days=1), dt.time.min))
        queryset = queryset.filter(first_asked_at__lt=end)
    if filters.get("min_occurrences"):
        queryset = queryset.filter(occurrences__gte=filters["min_occurrences"])
    return queryset.order_by(*GAP_SORTS.get(filters.get("sort") or "-occurrences", GAP_SORTS["-occurrences"]))


def gap_page(*, user, filters: Mapping[str, Any], page: Any = None) -> Page:
    return Paginator(gap_search(user=user, filters=filters), PAGE_SIZE).get_page(page)


def gap_counts(*, user) -> dict[str, int]:
    rows = gaps_visible_to(user).values("status").annotate(n=Count("id")).order_by()
    return {row["status"]: row["n"] for row in rows}


# --- synonyms ------------------------------------------------------------------------------------------


def synonym_page(*, q: str = "", page: Any = None) -> Page:
    queryset = Synonym.objects.all()
    q = (q or "").strip()
    if q:
        queryset = queryset.filter(Q(term__icontains=q) | Q(canonical__icontains=q))
    return Paginator(queryset.order_by("canonical", "term"), 100).get_page(page)


# --- the public KB -------------------------------------------------------------------------------------


def public_authority(code: str | None = None) -> Authority:
    """The authority whose KB the portal shows (core.selectors.portal_authority); none → 404."""
    authority = portal_authority(code)
    if authority is None:
        raise Http404(_("没有找到该登记机关的知识库。") if code else _("知识库尚未开放。"))
    return authority


def public_versions(*, authority: Authority) -> QuerySet[ArticleVersion]:
    """Current text of the public articles in use: published versions only, public only, not retired."""
    return ArticleVersion.objects.filter(
        article__authority=authority,
        article__is_retired=False,
        article__published_version=F("pk"),
        state=ArticleVersionState.PUBLISHED,
        visibility=Visibility.PUBLIC,
    ).select_related("article")


def public_browse(*, authority: Authority, topic: str = "", case_type: str = "") -> QuerySet[ArticleVersion]:
    queryset = public_versions(authority=authority)
    if topic:
        queryset = queryset.filter(topic=topic)
    if case_type:
        queryset = queryset.filter(case_types__icontains=f'"{case_type}"')
    return queryset.order_by("article__code")


def public_facets(*, authority: Authority) -> dict[str, list[tuple[str, str, int]]]:
    """(value, label, count) of topics and case types among the public articles, for browsing."""
    versions = public_versions(authority=authority)
    topic_counts = dict(versions.values_list("topic").annotate(n=Count("pk")).order_by())
    topics = [(v, label, topic_counts[v]) for v, label in CallTopic.choices if topic_counts.get(v)]
    case_counts: dict[str, int] = {}
    for values in versions.values_list("case_types", flat=True):
        for value in values or []:
            case_counts[value] = case_counts.get(value, 0) + 1
    case_types = [(v, label, case_counts[v]) for v, label in CaseType.choices if case_counts.get(v)]
    return {"topics": topics, "case_types": case_types}


def public_article(*, authority: Authority, code: str) -> ArticleVersion:
    version = public_versions(authority=authority).filter(article__code=code).first()
    if version is None:
        raise Http404(_("没有找到该知识条目，或该条目未公开。"))
    return version


@dataclass
class PublicHit:
    version: ArticleVersion
    score: float
    snippet: str


PUBLIC_SEARCH_LIMIT = 20
QUERY_MAX = 200


def public_search(*, authority: Authority, query: str) -> list[PublicHit]:
    """Public articles answering the query, best first, through the answering engine's retrieval."""
    query = (query or "").strip()[:QUERY_MAX]
    if not query:
        return []
    candidates = engine.search(
        authority_id=authority.pk, query=query, audience="public", limit=PUBLIC_SEARCH_LIMIT
    )
    by_id = public_versions(authority=authority).in_bulk([c.version_id for c in candidates])
    # The engine's index may lag a retire by one request; only what is public and current now is shown.
    return [
        PublicHit(version=by_id[c.version_id], score=c.score, snippet=c.snippet)
        for c in candidates
        if c.version_id in by_id
    ]
