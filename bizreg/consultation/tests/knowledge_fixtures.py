"""Shared helpers of the knowledge-base tests: articles in each state, written through the services."""

from __future__ import annotations

import itertools

from django.utils import timezone

from bizreg.consultation.models import Article, ArticleVersion, KnowledgeBaseRevision, KnowledgeGap
from bizreg.consultation.services import knowledge as services

_counter = itertools.count(1)


def content(**overrides) -> dict:
    n = next(_counter)
    data = {
        "title": f"个体工商户如何办理注销登记？{n}",
        "question_variants": f"个体户怎么注销{n}\n个体户不干了要办什么手续{n}",
        "answer": "个体工商户办理注销登记，可通过一网通办平台在线提交申请，材料齐全的当场办结。",
        "legal_basis": "《促进个体工商户发展条例》",
        "case_types": ["deregistration"],
        "topic": "deregistration",
        "visibility": "public",
    }
    data.update(overrides)
    return data


def draft(authority, author, **overrides) -> Article:
    return services.article_create(authority=authority, actor=author, data=content(**overrides))


def first_version(article: Article) -> ArticleVersion:
    return article.versions.get(number=1)


def publish(version: ArticleVersion, author, reviewer) -> ArticleVersion:
    if version.state in ("draft", "rejected"):
        version = services.version_transition(version=version, action="submit", actor=author)
    return services.version_transition(version=version, action="publish", actor=reviewer)


def published(authority, author, reviewer, **overrides) -> Article:
    article = draft(authority, author, **overrides)
    publish(first_version(article), author, reviewer)
    article.refresh_from_db()
    return article


def revision(authority) -> int:
    row = KnowledgeBaseRevision.objects.filter(authority=authority).first()
    return row.revision if row else 0


def make_gap(
    authority, question="营业执照丢了怎么补办", occurrences=3, channel="web_chat", **kw
) -> KnowledgeGap:
    now = kw.pop("at", None) or timezone.now()
    return KnowledgeGap.objects.create(
        authority=authority,
        question=question,
        normalized_question=kw.pop("normalized", question),
        channel=channel,
        first_asked_at=now,
        last_asked_at=now,
        occurrences=occurrences,
        **kw,
    )
