"""Knowledge-base services (issue 5, Deliver 5): articles and their versions, review and publish, freshness
(知识新鲜度), usage counts, synonyms and knowledge gaps.

Every write is one transaction with its actor. Version states change only through ARTICLE_VERSION_WORKFLOW
and each change writes an ArticleTransitionLog row; article-level steps (retire, unretire, confirm still
current) are logged on the article's current version with their own action names. Publishing, retiring and
every synonym change bump KnowledgeBaseRevision in the same transaction, so the answering engine in every
process sees the change before its next answer.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext as _

from bizreg.consultation.models import (
    ARTICLE_VERSION_WORKFLOW,
    Article,
    ArticleTransitionLog,
    ArticleUsage,
    ArticleVersion,
    ArticleVersionState,
    CallTopic,
    KnowledgeBaseRevision,
    KnowledgeGap,
    Synonym,
    Visibility,
)
from bizreg.core.models import Authority
from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.registration.models import CaseType

CODE_PREFIX = "KB-"
TITLE_MAX = ArticleVersion._meta.get_field("title").max_length
VARIANT_MAX = 200
ANSWER_MAX = 20_000
LEGAL_BASIS_MAX = 5_000
SOON_STALE_DAYS = 30
# Versions whose text can still be edited; submitting freezes it until a reviewer sends it back.
EDITABLE_STATES = (ArticleVersionState.DRAFT, ArticleVersionState.REJECTED)
UNPUBLISHED_STATES = (ArticleVersionState.DRAFT, ArticleVersionState.IN_REVIEW, ArticleVersionState.REJECTED)

# Article-level actions logged in ArticleTransitionLog next to the workflow's own actions.
ACTION_LABELS = {
    **{t.action: t.label for t in ARTICLE_VERSION_WORKFLOW.transitions.values()},
    "create": "新建条目",
    "draft": "起草新版本",
    "retire": "停用条目",
    "unretire": "恢复启用",
    "confirm_current": "确认内容仍然有效",
    "settings": "调整负责人/复核期限",
}


def review_period_days() -> int:
    return int(getattr(settings, "CONSULTATION_REVIEW_PERIOD_DAYS", 180))


def next_review_date(today: dt.date | None = None) -> dt.date:
    return (today or timezone.localdate()) + dt.timedelta(days=review_period_days())


# --- knowledge-base revision and usage (called by the engine and the tickets helper) --------------------


def kb_revision_bump(authority_id: int) -> int:
    """Increase the authority's knowledge-base revision by one and return the new value.

    Called inside the publishing transaction: the row update takes a row lock, so two publishers
    serialise here and each sees its own increment.
    """
    with transaction.atomic():
        KnowledgeBaseRevision.objects.get_or_create(authority_id=authority_id)
        KnowledgeBaseRevision.objects.filter(authority_id=authority_id).update(revision=F("revision") + 1)
        return KnowledgeBaseRevision.objects.values_list("revision", flat=True).get(authority_id=authority_id)


def _lock_knowledge_base(authority_id: int) -> None:
    """Serialise the allocation of article codes within an authority: the authority's revision row is
    locked until the transaction ends (a row of this app's own table, so no other app waits on it)."""
    KnowledgeBaseRevision.objects.get_or_create(authority_id=authority_id)
    list(
        KnowledgeBaseRevision.objects.select_for_update().filter(authority_id=authority_id).values_list("pk")
    )


def article_record_usage(*, version: ArticleVersion, kind: str, channel: str = "") -> None:
    """Record one use of an article version (engine answer, canned reply, public view) and count it."""
    if kind not in ArticleUsage.Kind.values:
        raise ValueError(f"未知的使用方式：{kind}")
    with transaction.atomic():
        ArticleUsage.objects.create(
            article_id=version.article_id, version=version, kind=kind, channel=channel, used_at=timezone.now()
        )
        # F() so concurrent uses never lose a count.
        Article.objects.filter(pk=version.article_id).update(usage_count=F("usage_count") + 1)


# --- validation of a version's content -----------------------------------------------------------------


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _normalise_variant(text: str) -> str:
    """Two variants are the same question when they differ only in spaces, case or end punctuation."""
    return re.sub(r"[\s？?。.!！]+", "", text).casefold()


def clean_version_data(data: Mapping) -> dict:
    """The content of a version, checked: raises ValidationError with every problem by field."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    title = _text(data.get("title"))
    if not title:
        add("title", _("请填写标准问题。"))
    elif len(title) > TITLE_MAX:
        add(
            "title",
            _("标准问题不能超过 %(max)d 个字（现有 %(n)d 个）。") % {"max": TITLE_MAX, "n": len(title)},
        )

    raw_variants = data.get("question_variants") or ""
    if isinstance(raw_variants, list | tuple):
        raw_variants = "\n".join(str(v) for v in raw_variants)
    variants: list[str] = []
    seen = {_normalise_variant(title): _("标准问题")} if title else {}
    for line in str(raw_variants).splitlines():
        variant = line.strip()
        if not variant:
            continue
        if len(variant) > VARIANT_MAX:
            add(
                "question_variants",
                _("相似问法“%(text)s…”超过 %(max)d 个字。") % {"text": variant[:20], "max": VARIANT_MAX},
            )
            continue
        key = _normalise_variant(variant)
        if key in seen:
            add(
                "question_variants",
                _("相似问法“%(text)s”与%(other)s重复。") % {"text": variant, "other": seen[key]},
            )
            continue
        seen[key] = _("“%(text)s”") % {"text": variant}
        variants.append(variant)

    answer = _text(data.get("answer"))
    if not answer:
        add("answer", _("请填写答案。"))
    elif len(answer) > ANSWER_MAX:
        add("answer", _("答案不能超过 %(max)d 个字。") % {"max": ANSWER_MAX})

    legal_basis = _text(data.get("legal_basis"))
    if len(legal_basis) > LEGAL_BASIS_MAX:
        add("legal_basis", _("政策法规依据不能超过 %(max)d 个字。") % {"max": LEGAL_BASIS_MAX})

    raw_case_types = data.get("case_types") or []
    if isinstance(raw_case_types, str):
        raw_case_types = [part for part in re.split(r"[,，\s]+", raw_case_types) if part]
    case_types: list[str] = []
    for value in raw_case_types:
        value = _text(value)
        if value not in CaseType.values:
            add("case_types", _("未知的业务类型：%(value)s。") % {"value": value})
        elif value not in case_types:
            case_types.append(value)

    topic = _text(data.get("topic"))
    if topic and topic not in CallTopic.values:
        add("topic", _("未知的咨询主题：%(value)s。") % {"value": topic})

    visibility = _text(data.get("visibility")) or Visibility.PUBLIC
    if visibility not in Visibility.values:
        add("visibility", _("公开范围只能是“公开”或“内部”。"))

    if errors:
        raise ValidationError(errors)
    return {
        "title": title,
        "question_variants": "\n".join(variants),
        "answer": answer,
        "legal_basis": legal_basis,
        "case_types": [value for value in CaseType.values if value in case_types],
        "topic": topic,
        "visibility": visibility,
    }


# --- articles and versions -----------------------------------------------------------------------------


def _require(actor, permission: str, label: str) -> None:
    if not actor.has_perm(permission):
        raise PermissionDenied(_("您的角色无权%(label)s。") % {"label": label})


def _log(version: ArticleVersion, action: str, actor, now, reason: str = "", from_state: str = "") -> None:
    ArticleTransitionLog.objects.create(
        version=version,
        action=action,
        from_state=from_state or version.state,
        to_state=version.state,
        actor=actor,
        occurred_at=now,
        reason=reason,
    )


def next_article_code(authority: Authority) -> str:
    """KB-0001, KB-0002, … per authority. Longest code first, so KB-10000 follows KB-9999."""
    last = (
        Article.objects.filter(authority=authority, code__startswith=CODE_PREFIX)
        .annotate(code_length=Length("code"))
        .order_by("-code_length", "-code")
        .values_list("code", flat=True)
        .first()
    )
    number = 0
    if last and last[len(CODE_PREFIX) :].isdigit():
        number = int(last[len(CODE_PREFIX) :])
    return f"{CODE_PREFIX}{number + 1:04d}"


def article_create(
    *,
    authority: Authority,
    actor,
    data: Mapping,
    owner=None,
    review_by: dt.date | None = None,
    gap: KnowledgeGap | None = None,
) -> Article:
    """A new article with its first version as a draft. `gap`: the knowledge gap it is written for — it
    counts as covered when the article is first published."""
    _require(actor, "consultation.add_article", _("新建知识条目"))
    content = clean_version_data(data)
    today = timezone.localdate()
    if review_by is not None and review_by < today:
        raise ValidationError({"review_by": [_("复核期限不能早于今天。")]})
    if gap is not None and gap.authority_id != authority.pk:
        raise ValidationError(_("该知识缺口不属于本登记机关。"))
    for _attempt in range(5):
        try:
            with transaction.atomic():
                _lock_knowledge_base(authority.pk)
                now = timezone.now()
                article = Article(
                    authority=authority,
                    code=next_article_code(authority),
                    owner=owner or actor,
                    review_by=review_by or next_review_date(today),
                )
                article._history_user = actor
                article.save()
                version = ArticleVersion.objects.create(article=article, number=1, author=actor, **content)
                _log(version, "create", actor, now)
                if gap is not None:
                    # Linked now, covered on publish: the gaps page shows it as "being written".
                    KnowledgeGap.objects.filter(pk=gap.pk, status=KnowledgeGap.Status.OPEN).update(
                        covered_by=article, handled_by=actor, handled_at=now
                    )
                return article
        except IntegrityError:
            # A code written outside this path (an import) took the number: take the next one.
            continue
    raise ValidationError(_("条目编号分配冲突，请重试。"))


def version_draft(*, article: Article, actor, data: Mapping) -> ArticleVersion:
    """A new version of an article, as a draft. Only one unpublished version at a time: edit that one."""
    _require(actor, "consultation.change_article", _("修改知识条目"))
    content = clean_version_data(data)
    with transaction.atomic():
        locked = Article.objects.select_for_update().get(pk=article.pk)
        pending = locked.versions.filter(state__in=UNPUBLISHED_STATES).order_by("-number").first()
        if pending is not None:
            raise TransitionNotAllowed(
                _("该条目已有未发布的版本 v%(number)d（%(state)s），请在该版本上修改或等待审核。")
                % {"number": pending.number, "state": pending.get_state_display()}
            )
        number = (locked.versions.aggregate(top=Max("number"))["top"] or 0) + 1
        version = ArticleVersion.objects.create(article=locked, number=number, author=actor, **content)
        _log(version, "draft", actor, timezone.now())
    return version


def version_update(*, version: ArticleVersion, actor, data: Mapping) -> ArticleVersion:
    """Edit a draft (or a version sent back by the reviewer) in place."""
    _require(actor, "consultation.change_article", _("修改知识条目"))
    content = clean_version_data(data)
    with transaction.atomic():
        locked = ArticleVersion.objects.select_for_update().get(pk=version.pk)
        if locked.state not in EDITABLE_STATES:
            raise TransitionNotAllowed(
                _("版本 v%(number)d 当前为“%(state)s”，不能修改；请起草新版本。")
                % {"number": locked.number, "state": locked.get_state_display()}
            )
        for name, value in content.items():
            setattr(locked, name, value)
        locked.save(update_fields=list(content))
    return locked


def version_transition(*, version: ArticleVersion, action: str, actor, reason: str = "") -> ArticleVersion:
    """Take one step of ARTICLE_VERSION_WORKFLOW: submit, reject (with a comment) or publish.

    Publishing follows the four-eyes rule (the reviewer is not the author), supersedes the article's
    previous published version, sets Article.published_version, pushes review_by forward, marks the gaps
    written for this article as covered and bumps the knowledge-base revision — all in one transaction.
    """
    if action == "supersede":
        raise TransitionNotAllowed(_("“被新版本替代”随发布新版本自动完成，不能单独执行。"))
    workflow_step = ARTICLE_VERSION_WORKFLOW.transition(action)
    seen_state = version.state
    ARTICLE_VERSION_WORKFLOW.check(state=seen_state, action=action, user=actor)
    reason = _text(reason)
    if action == "reject" and not reason:
        raise ValidationError({"reason": [_("请填写退回意见，说明需要修改的地方。")]})
    if action == "publish" and version.author_id == actor.pk:
        raise PermissionDenied(_("不能审核发布自己撰写的版本（四眼原则），请由其他审核人发布。"))

    with transaction.atomic():
        article = Article.objects.select_for_update().get(pk=version.article_id)
        locked = ArticleVersion.objects.select_for_update().get(pk=version.pk)
        if locked.state != seen_state:
            raise TransitionNotAllowed(
                _("该版本已被他人处理，当前状态为“%(state)s”，请刷新后再操作。")
                % {"state": locked.get_state_display()}
            )
        ARTICLE_VERSION_WORKFLOW.check(state=locked.state, action=action, user=actor)
        now = timezone.now()
        from_state = locked.state
        if action == "submit":
            locked.submitted_at = now
            locked.review_comment = ""
        elif action == "reject":
            locked.reviewer, locked.reviewed_at, locked.review_comment = actor, now, reason
        elif action == "publish":
            if article.is_retired:
                raise TransitionNotAllowed(_("该条目已停用，请先恢复启用再发布新版本。"))
            previous = (
                ArticleVersion.objects.select_for_update()
                .filter(article=article, state=ArticleVersionState.PUBLISHED)
                .first()
            )
            if previous is not None:
                # Superseded first: at most one published version per article (a unique constraint).
                previous.state = ArticleVersionState.SUPERSEDED
                previous.save(update_fields=["state"])
                _log(
                    previous,
                    "supersede",
                    actor,
                    now,
                    _("由 v%(number)d 替代") % {"number": locked.number},
                    from_state=ArticleVersionState.PUBLISHED,
                )
            locked.reviewer, locked.reviewed_at, locked.published_at = actor, now, now
            locked.review_comment = reason
        locked.state = workflow_step.target
        locked.save()
        _log(locked, action, actor, now, reason, from_state=from_state)
        if action == "publish":
            article.published_version = locked
            article.review_by = next_review_date(timezone.localdate(now))
            article.stale_notified_at = None
            article._history_user = actor
            article._change_reason = workflow_step.label
            article.save()
            KnowledgeGap.objects.filter(
                authority_id=article.authority_id, covered_by=article, status=KnowledgeGap.Status.OPEN
            ).update(status=KnowledgeGap.Status.COVERED, handled_at=now)
            kb_revision_bump(article.authority_id)
    return locked


def _current_version(article: Article) -> ArticleVersion:
    """The version article-level steps are logged on: the published one, else the newest."""
    if article.published_version_id:
        return ArticleVersion.objects.get(pk=article.published_version_id)
    return article.versions.order_by("-number").first()


def article_retire(*, article: Article, actor, reason: str) -> Article:
    """Take an article out of the public KB and the engine (its versions stay, as history)."""
    _require(actor, "consultation.review_article", _("停用知识条目"))
    reason = _text(reason)
    if not reason:
        raise ValidationError({"reason": [_("请填写停用原因。")]})
    with transaction.atomic():
        locked = Article.objects.select_for_update().get(pk=article.pk)
        if locked.is_retired:
            raise TransitionNotAllowed(_("该条目已停用。"))
        locked.is_retired = True
        locked._history_user = actor
        locked._change_reason = reason
        locked.save()
        _log(_current_version(locked), "retire", actor, timezone.now(), reason)
        kb_revision_bump(locked.authority_id)
    return locked


def article_unretire(*, article: Article, actor, reason: str = "") -> Article:
    _require(actor, "consultation.review_article", _("恢复启用知识条目"))
    with transaction.atomic():
        locked = Article.objects.select_for_update().get(pk=article.pk)
        if not locked.is_retired:
            raise TransitionNotAllowed(_("该条目未停用，无需恢复。"))
        locked.is_retired = False
        # Back in use after a pause: its content must be confirmed again within the period.
        locked.review_by = max(locked.review_by, timezone.localdate())
        locked._history_user = actor
        locked._change_reason = _text(reason) or ACTION_LABELS["unretire"]
        locked.save()
        _log(_current_version(locked), "unretire", actor, timezone.now(), _text(reason))
        kb_revision_bump(locked.authority_id)
    return locked


def article_confirm_current(*, article: Article, actor, note: str = "") -> Article:
    """ "Still current" (内容仍然有效): the owner or a reviewer re-sets review_by without a new version."""
    if not (article.owner_id == actor.pk or actor.has_perm("consultation.review_article")):
        raise PermissionDenied(_("只有条目负责人或审核人可以确认条目仍然有效。"))
    _require(actor, "consultation.change_article", _("确认知识条目"))
    with transaction.atomic():
        locked = Article.objects.select_for_update().get(pk=article.pk)
        if locked.published_version_id is None or locked.is_retired:
            raise TransitionNotAllowed(_("只有已发布且在用的条目需要确认有效。"))
        now = timezone.now()
        locked.review_by = next_review_date(timezone.localdate(now))
        locked.stale_notified_at = None
        locked._history_user = actor
        locked._change_reason = ACTION_LABELS["confirm_current"]
        locked.save()
        _log(
            _current_version(locked),
            "confirm_current",
            actor,
            now,
            _text(note) or _("复核期限延至 %(date)s") % {"date": f"{locked.review_by:%Y-%m-%d}"},
        )
    return locked


def article_settings_update(
    *, article: Article, actor, owner, review_by: dt.date, reason: str = ""
) -> Article:
    """A reviewer hands an article to another owner or sets its review-by date."""
    _require(actor, "consultation.review_article", _("调整负责人或复核期限"))
    if review_by < timezone.localdate():
        raise ValidationError({"review_by": [_("复核期限不能早于今天。")]})
    if not owner.has_perm("consultation.change_article"):
        raise ValidationError({"owner": [_("负责人须是能维护知识库的工作人员。")]})
    if not owner.is_superuser and not owner.authorities.filter(pk=article.authority_id).exists():
        raise ValidationError({"owner": [_("负责人须属于本登记机关。")]})
    with transaction.atomic():
        locked = Article.objects.select_for_update().get(pk=article.pk)
        changes = []
        if locked.owner_id != owner.pk:
            changes.append(_("负责人改为 %(name)s") % {"name": owner})
        if locked.review_by != review_by:
            changes.append(_("复核期限改为 %(date)s") % {"date": f"{review_by:%Y-%m-%d}"})
            locked.stale_notified_at = None
        if not changes:
            return locked
        locked.owner, locked.review_by = owner, review_by
        locked._history_user = actor
        locked._change_reason = "；".join(changes)
        locked.save()
        note = "；".join(changes) + (f"（{_text(reason)}）" if _text(reason) else "")
        _log(_current_version(locked), "settings", actor, timezone.now(), note)
    return locked


# --- freshness -----------------------------------------------------------------------------------------


def stale_condition(today: dt.date) -> Q:
    """Published, in use, and past its review-by date."""
    return Q(published_version__isnull=False, is_retired=False, review_by__lt=today)


def notify_stale_articles(today: dt.date | None = None) -> int:
    """Flag every stale article to its owner once per staleness period; returns how many were flagged now.

    The flag (stale_notified_at) is what the owner sees on the knowledge-base list; confirming the article
    or publishing a new version clears it, so the next period flags it again. Running twice flags nothing
    more (idempotent).
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        return Article.objects.filter(stale_condition(today), stale_notified_at__isnull=True).update(
            stale_notified_at=timezone.now()
        )


# --- synonyms ------------------------------------------------------------------------------------------


def _bump_all_revisions() -> None:
    # Synonyms are shared by every authority's index.
    for authority_id in Authority.objects.order_by("pk").values_list("pk", flat=True):
        kb_revision_bump(authority_id)


def _clean_synonym(term: Any, canonical: Any, *, exclude_pk: int | None = None) -> tuple[str, str]:
    errors: dict[str, list[str]] = {}
    term, canonical = _text(term), _text(canonical)
    limit = Synonym._meta.get_field("term").max_length
    if not term:
        errors.setdefault("term", []).append(_("请填写词语。"))
    elif len(term) > limit:
        errors.setdefault("term", []).append(_("词语不能超过 %(max)d 个字。") % {"max": limit})
    if not canonical:
        errors.setdefault("canonical", []).append(_("请填写标准词。"))
    elif len(canonical) > limit:
        errors.setdefault("canonical", []).append(_("标准词不能超过 %(max)d 个字。") % {"max": limit})
    if errors:
        raise ValidationError(errors)
    if term.casefold() == canonical.casefold():
        raise ValidationError({"canonical": [_("标准词不能与词语相同。")]})
    others = Synonym.objects.exclude(pk=exclude_pk) if exclude_pk else Synonym.objects.all()
    if others.filter(term__iexact=term).exists():
        errors.setdefault("term", []).append(_("词语“%(term)s”已有同义词设置。") % {"term": term})
    # No chains (A→B→C) and so no cycles: a canonical word is never itself rewritten, and a rewritten
    # word is never another word's canonical.
    chained = others.filter(term__iexact=canonical).first()
    if chained is not None:
        errors.setdefault("canonical", []).append(
            _("标准词“%(word)s”本身会被改写为“%(next)s”，不能形成链式改写；请直接填写“%(next)s”。")
            % {"word": canonical, "next": chained.canonical}
        )
    pointing = others.filter(canonical__iexact=term).first()
    if pointing is not None:
        errors.setdefault("term", []).append(
            _("“%(word)s”是“%(other)s”的标准词，不能再改写为其他词（会形成链式改写）。")
            % {"word": term, "other": pointing.term}
        )
    if errors:
        raise ValidationError(errors)
    return term, canonical


def _require_synonym(actor, permission: str) -> None:
    if not actor.has_perm(permission):
        raise PermissionDenied(_("您的角色无权维护同义词表。"))


def synonym_create(*, actor, term: str, canonical: str) -> Synonym:
    _require_synonym(actor, "consultation.add_synonym")
    term, canonical = _clean_synonym(term, canonical)
    try:
        with transaction.atomic():
            synonym = Synonym(term=term, canonical=canonical)
            synonym._history_user = actor
            synonym.save()
            _bump_all_revisions()
    except IntegrityError:
        raise ValidationError({"term": [_("词语“%(term)s”已有同义词设置。") % {"term": term}]}) from None
    return synonym


def synonym_update(*, synonym: Synonym, actor, term: str, canonical: str) -> Synonym:
    _require_synonym(actor, "consultation.change_synonym")
    term, canonical = _clean_synonym(term, canonical, exclude_pk=synonym.pk)
    try:
        with transaction.atomic():
            locked = Synonym.objects.select_for_update().get(pk=synonym.pk)
            locked.term, locked.canonical = term, canonical
            locked._history_user = actor
            locked.save()
            _bump_all_revisions()
    except IntegrityError:
        raise ValidationError({"term": [_("词语“%(term)s”已有同义词设置。") % {"term": term}]}) from None
    return locked


def synonym_delete(*, synonym: Synonym, actor) -> None:
    _require_synonym(actor, "consultation.delete_synonym")
    with transaction.atomic():
        synonym._history_user = actor
        synonym.delete()
        _bump_all_revisions()


# --- knowledge gaps ------------------------------------------------------------------------------------


def gap_dismiss(*, gap: KnowledgeGap, actor, reason: str) -> KnowledgeGap:
    """No article needed for this question (chit-chat, out of scope, answered elsewhere): say why."""
    _require(actor, "consultation.change_knowledgegap", _("处理知识缺口"))
    reason = _text(reason)
    if not reason:
        raise ValidationError({"reason": [_("请填写无需补充的理由。")]})
    limit = KnowledgeGap._meta.get_field("handling_note").max_length
    if len(reason) > limit:
        raise ValidationError({"reason": [_("理由不能超过 %(max)d 个字。") % {"max": limit}]})
    with transaction.atomic():
        locked = KnowledgeGap.objects.select_for_update().get(pk=gap.pk)
        if locked.status != KnowledgeGap.Status.OPEN:
            raise TransitionNotAllowed(
                _("该知识缺口当前为“%(status)s”，不能再标记为无需补充。")
                % {"status": locked.get_status_display()}
            )
        locked.status = KnowledgeGap.Status.DISMISSED
        locked.handled_by, locked.handled_at, locked.handling_note = actor, timezone.now(), reason
        locked.save(update_fields=["status", "handled_by", "handled_at", "handling_note", "updated_at"])
    return locked


def gap_reopen(*, gap: KnowledgeGap, actor) -> KnowledgeGap:
    """Undo a dismissal (the question turned out to need an article after all)."""
    _require(actor, "consultation.change_knowledgegap", _("处理知识缺口"))
    with transaction.atomic():
        locked = KnowledgeGap.objects.select_for_update().get(pk=gap.pk)
        if locked.status != KnowledgeGap.Status.DISMISSED:
            raise TransitionNotAllowed(_("只有“无需补充”的知识缺口可以重新打开。"))
        locked.status = KnowledgeGap.Status.OPEN
        locked.handled_by, locked.handled_at, locked.handling_note = actor, timezone.now(), ""
        locked.save(update_fields=["status", "handled_by", "handled_at", "handling_note", "updated_at"])
    return locked
