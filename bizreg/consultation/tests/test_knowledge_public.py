"""The public knowledge base on the portal: only public articles' current published text, no login;
an internal article, a draft, a superseded text or a retired article is a 404; views count as usage."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from bizreg.consultation.models import ArticleUsage
from bizreg.consultation.services import knowledge as services
from bizreg.consultation.tests.knowledge_fixtures import content, draft, publish, published

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(role_users):
    return role_users["hotline_agent"]


@pytest.fixture
def manager(role_users):
    return role_users["manager"]


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()  # the search rate limit counts in the shared cache
    yield
    cache.clear()


def test_public_article_shows_the_current_published_text(client, authority, agent, manager):
    article = published(
        authority, agent, manager, title="营业执照遗失了怎么补领？", answer="旧答案：到窗口补领。"
    )
    v2 = services.version_draft(
        article=article,
        actor=agent,
        data=content(title="营业执照遗失了怎么补领？", answer="新答案：网上申请，免费邮寄。"),
    )
    publish(v2, agent, manager)
    response = client.get(f"/portal/consult/kb/{article.code}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "新答案：网上申请，免费邮寄。" in page and "旧答案" not in page
    article.refresh_from_db()
    assert article.usage_count == 1
    assert ArticleUsage.objects.get().kind == ArticleUsage.Kind.PUBLIC_VIEW


def test_internal_draft_and_retired_articles_are_not_found(client, authority, agent, manager):
    internal = published(authority, agent, manager, visibility="internal", title="内部审核口径")
    never_published = draft(authority, agent, title="尚未发布的条目")
    retired = published(authority, agent, manager, title="已废止的政策")
    services.article_retire(article=retired, actor=manager, reason="政策废止")
    # A public article whose next version turns internal: the public page disappears on publish.
    turning = published(authority, agent, manager, title="将转为内部的条目")
    v2 = services.version_draft(article=turning, actor=agent, data=content(visibility="internal"))
    publish(v2, agent, manager)
    for article in (internal, never_published, retired, turning):
        assert client.get(f"/portal/consult/kb/{article.code}/").status_code == 404, article.code
    assert client.get("/portal/consult/kb/KB-9999/").status_code == 404
    index = client.get("/portal/consult/kb/")
    assert index.status_code == 200 and index.context["page"].paginator.count == 0
    assert not ArticleUsage.objects.exists()


def test_index_browses_by_topic_and_case_type(client, authority, agent, manager):
    licence = published(
        authority, agent, manager, title="执照邮寄多久到？", topic="licence", case_types=["establishment"]
    )
    dereg = published(
        authority,
        agent,
        manager,
        title="简易注销条件？",
        topic="deregistration",
        case_types=["simple_deregistration"],
    )
    published(authority, agent, manager, title="内部口径", visibility="internal", topic="licence")

    def codes(query: str) -> set[str]:
        response = client.get(f"/portal/consult/kb/?{query}")
        assert response.status_code == 200
        return {v.article.code for v in response.context["page"]}

    assert codes("") == {licence.code, dereg.code}
    assert codes("topic=licence") == {licence.code}
    assert codes("case_type=simple_deregistration") == {dereg.code}
    assert codes("case_type=deregistration") == set()  # not a substring match of simple_deregistration
    assert codes("topic=bogus") == {licence.code, dereg.code}  # unknown filter ignored
    facets = client.get("/portal/consult/kb/").context["facets"]
    assert ("licence", "营业执照领取/邮寄", 1) in facets["topics"]


def test_search_uses_the_engine_and_shows_only_public_articles(client, authority, agent, manager):
    public = published(
        authority, agent, manager, title="营业执照遗失了怎么补领？", question_variants="执照丢了怎么办"
    )
    published(authority, agent, manager, title="营业执照遗失补领的内部审核要点", visibility="internal")
    response = client.get("/portal/consult/kb/search/", {"q": "营业执照丢了怎么补办"})
    assert response.status_code == 200
    hits = response.context["hits"]
    assert [h.version.article.code for h in hits][:1] == [public.code]
    assert all(h.version.visibility == "public" for h in hits)


@pytest.mark.parametrize("q", ["", "   ", "<script>alert(1)</script>", "注" * 5000])
def test_search_bad_input_gets_a_clear_page(client, authority, agent, manager, q):
    published(authority, agent, manager)
    response = client.get("/portal/consult/kb/search/", {"q": q})
    assert response.status_code == 200
    page = response.content.decode()
    assert "<script>alert(1)</script>" not in page
    if not q.strip():
        assert "请输入要查询的问题" in page


def test_search_is_rate_limited(client, settings, authority):
    settings.CONSULTATION_KB_SEARCH_RATE_LIMIT = (2, 60)
    assert client.get("/portal/consult/kb/search/", {"q": "执照"}).status_code == 200
    assert client.get("/portal/consult/kb/search/", {"q": "执照"}).status_code == 200
    limited = client.get("/portal/consult/kb/search/", {"q": "执照"})
    assert limited.status_code == 429 and "过于频繁" in limited.content.decode()


def test_authority_is_chosen_by_code(client, authority, other_authority, agent, manager, make_user):
    ours = published(authority, agent, manager, title="南沙的条目")
    other_agent = make_user("hotline_agent", authorities=[other_authority])
    other_manager = make_user("manager", authorities=[other_authority])
    theirs = published(other_authority, other_agent, other_manager, title="天河的条目")
    assert ours.code == theirs.code == "KB-0001"
    assert "南沙的条目" in client.get("/portal/consult/kb/KB-0001/").content.decode()
    other = client.get(f"/portal/consult/kb/KB-0001/?authority={other_authority.code}").content.decode()
    assert "天河的条目" in other
    assert client.get("/portal/consult/kb/?authority=000000").status_code == 404
