"""Knowledge-base API: published articles and knowledge gaps, scoped per authority and role."""

from __future__ import annotations

import pytest

from bizreg.accounts.roles import ROLES
from bizreg.consultation.services import knowledge as services
from bizreg.consultation.tests.knowledge_fixtures import content, draft, make_gap, publish, published

pytestmark = pytest.mark.django_db

VIEWERS = {"hotline_agent", "manager"}


@pytest.fixture
def agent(role_users):
    return role_users["hotline_agent"]


@pytest.fixture
def manager(role_users):
    return role_users["manager"]


def test_articles_list_only_published_current_text(client_for, agent, manager, authority):
    article = published(authority, agent, manager, title="怎样办理简易注销？")
    draft(authority, agent)
    v2 = services.version_draft(
        article=article, actor=agent, data=content(title="怎样办理简易注销？", answer="新答案")
    )
    publish(v2, agent, manager)
    retired = published(authority, agent, manager)
    services.article_retire(article=retired, actor=manager, reason="废止")
    response = client_for(agent).get("/api/consultation-articles/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["code"] for r in results] == [article.code]
    assert results[0]["published"]["number"] == 2 and results[0]["published"]["answer"] == "新答案"
    detail = client_for(agent).get(f"/api/consultation-articles/{article.pk}/").json()
    assert detail["published"]["variants"] == v2.variants()
    filtered = client_for(agent).get("/api/consultation-articles/", {"q": "不存在的文字"}).json()
    assert filtered["count"] == 0


def test_api_roles_and_authorities(
    client_for, role_users, agent, manager, authority, other_authority, make_user
):
    article = published(authority, agent, manager)
    gap = make_gap(authority)
    for role in {r.code for r in ROLES}:
        c = client_for(role_users[role])
        expected = 200 if role in VIEWERS else 403
        assert c.get("/api/consultation-articles/").status_code == expected, role
        assert c.get("/api/consultation-knowledge-gaps/").status_code == expected, role
    outsider = client_for(make_user("manager", authorities=[other_authority]))
    assert outsider.get(f"/api/consultation-articles/{article.pk}/").status_code == 404
    assert outsider.get(f"/api/consultation-knowledge-gaps/{gap.pk}/").status_code == 404
    assert (
        outsider.post(f"/api/consultation-knowledge-gaps/{gap.pk}/dismiss/", {"reason": "x"}).status_code
        == 404
    )


def test_gap_api_filters_and_dismiss(client_for, agent, manager, authority, role_users):
    frequent = make_gap(authority, "执照丢了", occurrences=5)
    make_gap(authority, "别的问题", occurrences=1)
    c = client_for(agent)
    listed = c.get("/api/consultation-knowledge-gaps/", {"min_occurrences": 3}).json()
    assert [g["question"] for g in listed["results"]] == ["执照丢了"]
    assert c.get("/api/consultation-knowledge-gaps/", {"min_occurrences": "many"}).status_code == 400
    reversed_range = c.get(
        "/api/consultation-knowledge-gaps/", {"date_from": "2025-03-05", "date_to": "2025-03-01"}
    )
    assert reversed_range.status_code == 400 and "起始日期不能晚于截止日期" in reversed_range.content.decode()
    url = f"/api/consultation-knowledge-gaps/{frequent.pk}/dismiss/"
    assert c.post(url, {"reason": ""}, content_type="application/json").status_code == 400
    clerk = client_for(role_users["registration_clerk"])
    assert clerk.post(url, {"reason": "x"}, content_type="application/json").status_code == 403
    ok = c.post(url, {"reason": "闲聊"}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["status"] == "dismissed"
    again = c.post(url, {"reason": "再次"}, content_type="application/json")
    assert again.status_code == 409
    every = c.get("/api/consultation-knowledge-gaps/", {"status": ""}).json()
    assert every["count"] == 2
