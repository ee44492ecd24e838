"""Real races on PostgreSQL: agents creating articles and reviewers publishing at the same moment, each in
its own connection. Codes stay unique and every publish counts once in the knowledge-base revision."""

from __future__ import annotations

import pytest

from bizreg.consultation.models import Article, KnowledgeBaseRevision
from bizreg.consultation.services import knowledge as services
from bizreg.consultation.tests.knowledge_fixtures import content, draft, first_version
from bizreg.testing.concurrency import race

# serialized_rollback: the flush after a transactional test would otherwise also remove the roles the
# migrations created.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_simultaneous_creates_get_distinct_codes(authority, role_users):
    agent = role_users["hotline_agent"]
    outcomes = race(
        *[lambda: services.article_create(authority=authority, actor=agent, data=content()) for _ in range(8)]
    )
    assert all(isinstance(o, Article) for o in outcomes), outcomes
    assert len({o.code for o in outcomes}) == 8


def test_simultaneous_publishes_each_bump_the_revision(authority, role_users):
    agent, manager = role_users["hotline_agent"], role_users["manager"]
    versions = []
    for _ in range(6):
        version = first_version(draft(authority, agent))
        versions.append(services.version_transition(version=version, action="submit", actor=agent))
    outcomes = race(
        *[
            lambda v=v: services.version_transition(version=v, action="publish", actor=manager)
            for v in versions
        ]
    )
    assert all(o.state == "published" for o in outcomes), outcomes
    assert KnowledgeBaseRevision.objects.get(authority=authority).revision == 6


def test_two_reviewers_publishing_the_same_version_publish_it_once(authority, role_users, make_user):
    agent = role_users["hotline_agent"]
    reviewers = [role_users["manager"], make_user("manager")]
    version = first_version(draft(authority, agent))
    version = services.version_transition(version=version, action="submit", actor=agent)
    outcomes = race(
        *[
            lambda r=r: services.version_transition(version=version, action="publish", actor=r)
            for r in reviewers
        ]
    )
    assert sum(1 for o in outcomes if not isinstance(o, Exception)) == 1, outcomes
    assert KnowledgeBaseRevision.objects.get(authority=authority).revision == 1
