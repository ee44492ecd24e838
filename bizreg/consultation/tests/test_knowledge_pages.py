"""Knowledge-base staff pages: what each role may open, the review steps through the pages (409 with the
reason, 403 for the wrong role or the author), the list's filters and export, diff, synonyms and gaps."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from bizreg.accounts.roles import ROLES
from bizreg.consultation.models import Article, ArticleVersionState, KnowledgeGap, Synonym
from bizreg.consultation.services import knowledge as services
from bizreg.consultation.tests.knowledge_fixtures import content, draft, first_version, make_gap, published

pytestmark = pytest.mark.django_db

ALL = {role.code for role in ROLES}
VIEWERS = {"hotline_agent", "manager"}


@pytest.fixture
def agent(role_users):
    return role_users["hotline_agent"]


@pytest.fixture
def manager(role_users):
    return role_users["manager"]


def form_data(**overrides) -> dict:
    return content(**overrides)


# --- permission matrix ----------------------------------------------------------------------------------

PAGES = [
    ("/consultation/knowledge/", VIEWERS),
    ("/consultation/knowledge/export/", VIEWERS),
    ("/consultation/knowledge/freshness/", VIEWERS),
    ("/consultation/knowledge/new/", {"hotline_agent"}),
    ("/consultation/knowledge/synonyms/", VIEWERS),
    ("/consultation/knowledge/synonyms/new/", {"manager"}),
    ("/consultation/knowledge/gaps/", VIEWERS),
    ("/consultation/knowledge/gaps/export/", VIEWERS),
]


@pytest.mark.parametrize(("url", "allowed"), PAGES)
def test_each_role_opens_only_its_pages(client_for, role_users, url, allowed):
    for role in sorted(ALL):
        response = client_for(role_users[role]).get(url)
        assert response.status_code == (200 if role in allowed else 403), (role, url)


def test_anonymous_is_sent_to_login(client):
    response = client.get("/consultation/knowledge/")
    assert response.status_code == 302 and "login" in response["Location"]


def test_article_pages_per_role_and_other_authority(
    client_for, role_users, authority, other_authority, make_user
):
    agent, manager = role_users["hotline_agent"], role_users["manager"]
    article = published(authority, agent, manager)
    for role in sorted(ALL):
        status = client_for(role_users[role]).get(f"/consultation/knowledge/{article.pk}/").status_code
        assert status == (200 if role in VIEWERS else 403), role
    outsider = make_user("manager", authorities=[other_authority])
    c = client_for(outsider)
    assert c.get(f"/consultation/knowledge/{article.pk}/").status_code == 404
    version_url = f"/consultation/knowledge/versions/{article.published_version_id}/do/publish/"
    assert c.get(version_url).status_code == 404
    assert c.get(f"/consultation/knowledge/{article.pk}/do/retire/").status_code == 404
    assert c.get("/consultation/knowledge/").context["listing"].page.paginator.count == 0


# --- the workflow through the pages ---------------------------------------------------------------------


def test_agent_writes_manager_publishes(client_for, agent, manager, authority):
    agent_client, manager_client = client_for(agent), client_for(manager)
    bad = agent_client.post("/consultation/knowledge/new/", form_data(title="", answer=""))
    assert bad.status_code == 400
    assert "请填写标准问题" in bad.content.decode() and "请填写答案" in bad.content.decode()
    dup = agent_client.post(
        "/consultation/knowledge/new/", form_data(question_variants="怎么注销\n怎么注销？")
    )
    assert dup.status_code == 400 and "重复" in dup.content.decode()
    unknown = agent_client.post("/consultation/knowledge/new/", {**form_data(), "case_types": ["bogus"]})
    assert unknown.status_code == 400 and "未知的业务类型" in unknown.content.decode()
    assert not Article.objects.exists()

    response = agent_client.post("/consultation/knowledge/new/", form_data(title="公司地址变更怎么办理？"))
    assert response.status_code == 302
    article = Article.objects.get()
    version = first_version(article)
    base = f"/consultation/knowledge/versions/{version.pk}/do/"

    # Publishing a draft: refused for its state, with the reason.
    conflict = manager_client.post(base + "publish/", {"reason": ""})
    assert conflict.status_code == 409
    assert "当前状态为“草稿”" in conflict.content.decode()
    # The agent may not publish (role), nor reject.
    assert agent_client.post(base + "submit/", {"reason": ""}).status_code == 302
    assert agent_client.get(base + "publish/").status_code == 403
    assert agent_client.post(base + "reject/", {"reason": "x"}).status_code == 403
    # Reject needs a comment.
    assert manager_client.post(base + "reject/", {"reason": ""}).status_code == 400
    assert manager_client.post(base + "publish/", {"reason": "内容准确"}).status_code == 302
    article.refresh_from_db()
    assert article.published_version_id == version.pk
    page = agent_client.get(f"/consultation/knowledge/{article.pk}/")
    assert "现行版本 v1" in page.content.decode()
    assert manager_client.get(base + "supersede/").status_code == 404
    assert (
        manager_client.get(f"/consultation/knowledge/versions/{version.pk}/do/nonsense/").status_code == 404
    )


def test_author_cannot_publish_own_version_through_the_page(client_for, agent, manager, make_user, authority):
    article = published(authority, agent, make_user("manager"))
    v2 = services.version_draft(article=article, actor=manager, data=content())
    services.version_transition(version=v2, action="submit", actor=manager)
    c = client_for(manager)
    page = c.get(f"/consultation/knowledge/{article.pk}/?v={v2.pk}").content.decode()
    assert 'data-testid="action-publish"' not in page and "四眼原则" in page
    response = c.post(f"/consultation/knowledge/versions/{v2.pk}/do/publish/", {"reason": ""})
    assert response.status_code == 403
    v2.refresh_from_db()
    assert v2.state == ArticleVersionState.IN_REVIEW


def test_new_version_edit_and_diff_is_escaped(client_for, agent, manager, authority):
    article = published(authority, agent, manager, answer="原答案：到窗口办理。")
    c = client_for(agent)
    form = c.get(f"/consultation/knowledge/{article.pk}/versions/new/")
    assert form.status_code == 200 and "原答案" in form.content.decode()
    response = c.post(
        f"/consultation/knowledge/{article.pk}/versions/new/",
        form_data(answer="新答案：<script>alert(1)</script>全程网办。"),
    )
    assert response.status_code == 302
    v2 = article.versions.get(number=2)
    # Only one pending version: drafting again is refused with the reason.
    again = c.post(f"/consultation/knowledge/{article.pk}/versions/new/", form_data())
    assert again.status_code == 409 and "未发布的版本 v2" in again.content.decode()
    page = c.get(f"/consultation/knowledge/{article.pk}/").content.decode()
    assert 'data-testid="kb-diff"' in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    edit = c.post(f"/consultation/knowledge/versions/{v2.pk}/edit/", form_data(answer="改过的答案"))
    assert edit.status_code == 302
    v2.refresh_from_db()
    assert v2.answer == "改过的答案"
    services.version_transition(version=v2, action="submit", actor=agent)
    locked = c.get(f"/consultation/knowledge/versions/{v2.pk}/edit/")
    assert locked.status_code == 409


def test_retire_confirm_and_settings_pages(client_for, agent, manager, authority, make_user):
    article = published(authority, agent, manager)
    agent_client, manager_client = client_for(agent), client_for(manager)
    assert (
        agent_client.post(f"/consultation/knowledge/{article.pk}/do/retire/", {"reason": "x"}).status_code
        == 403
    )
    assert (
        manager_client.post(f"/consultation/knowledge/{article.pk}/do/retire/", {"reason": ""}).status_code
        == 400
    )
    assert (
        manager_client.post(
            f"/consultation/knowledge/{article.pk}/do/retire/", {"reason": "政策废止"}
        ).status_code
        == 302
    )
    again = manager_client.post(f"/consultation/knowledge/{article.pk}/do/retire/", {"reason": "再次"})
    assert again.status_code == 409
    assert manager_client.post(f"/consultation/knowledge/{article.pk}/do/unretire/", {}).status_code == 302
    assert manager_client.get(f"/consultation/knowledge/{article.pk}/do/delete/").status_code == 404

    Article.objects.filter(pk=article.pk).update(review_by=timezone.localdate() - dt.timedelta(days=2))
    colleague = make_user("hotline_agent")
    assert (
        client_for(colleague).post(f"/consultation/knowledge/{article.pk}/do/confirm/", {}).status_code == 403
    )
    assert agent_client.post(f"/consultation/knowledge/{article.pk}/do/confirm/", {}).status_code == 302
    article.refresh_from_db()
    assert article.review_by > timezone.localdate()

    settings_url = f"/consultation/knowledge/{article.pk}/settings/"
    assert agent_client.get(settings_url).status_code == 403
    past = manager_client.post(
        settings_url,
        {"owner": colleague.pk, "review_by": (timezone.localdate() - dt.timedelta(days=1)).isoformat()},
    )
    assert past.status_code == 400 and "不能早于今天" in past.content.decode()
    day = timezone.localdate() + dt.timedelta(days=60)
    ok = manager_client.post(settings_url, {"owner": colleague.pk, "review_by": day.isoformat()})
    assert ok.status_code == 302
    article.refresh_from_db()
    assert (article.owner, article.review_by) == (colleague, day)
    stranger = manager_client.post(settings_url, {"owner": manager.pk + 999, "review_by": day.isoformat()})
    assert stranger.status_code == 400


# --- list, filters, export, freshness --------------------------------------------------------------------


def test_list_filters_and_stale_notice(client_for, agent, manager, authority, make_user):
    today = timezone.localdate()
    mine = published(
        authority, agent, manager, title="执照遗失怎么办？", case_types=["change"], topic="licence"
    )
    other_owner = make_user("hotline_agent")
    theirs = published(authority, other_owner, manager, visibility="internal")
    pending = draft(authority, agent, title="内部办事指引", visibility="internal")
    Article.objects.filter(pk__in=[mine.pk, theirs.pk]).update(review_by=today - dt.timedelta(days=1))
    services.notify_stale_articles()
    c = client_for(agent)

    def codes(query: str) -> set[str]:
        response = c.get(f"/consultation/knowledge/?{query}")
        assert response.status_code == 200
        return {row.article.code for row in response.context["listing"].rows}

    assert codes("") == {mine.code, theirs.code, pending.code}
    assert codes("q=遗失") == {mine.code}
    assert codes(f"q={pending.code}") == {pending.code}
    assert codes("case_type=change") == {mine.code}
    assert codes("case_type=deregistration") == {theirs.code, pending.code}
    assert codes("topic=licence") == {mine.code}
    assert codes("visibility=internal") == {theirs.code, pending.code}
    assert codes("status=unpublished") == {pending.code}
    assert codes("status=draft") == {pending.code}
    assert codes("freshness=stale") == {mine.code, theirs.code}
    assert codes("freshness=mine_stale") == {mine.code}
    assert codes(f"owner={other_owner.pk}") == {theirs.code}
    # A bad filter value is ignored with a notice, never an error page.
    bad = c.get("/consultation/knowledge/?status=nonsense&owner=abc")
    assert bad.status_code == 200 and "已忽略" in bad.content.decode()

    page = c.get("/consultation/knowledge/").content.decode()
    assert 'data-testid="mine-stale-alert"' in page and 'data-testid="stale-flag"' in page
    assert (
        'data-testid="mine-stale-alert"'
        not in client_for(manager).get("/consultation/knowledge/").content.decode()
    )
    htmx = c.get("/consultation/knowledge/?q=遗失", HTTP_HX_REQUEST="true")
    assert htmx.status_code == 200 and "<html" not in htmx.content.decode()

    freshness = c.get("/consultation/knowledge/freshness/")
    assert {row.article.code for row in freshness.context["stale"]} == {mine.code, theirs.code}


def test_list_query_count_does_not_grow_with_rows(client_for, agent, manager, authority):
    for _ in range(2):
        published(authority, agent, manager)
    c = client_for(agent)
    c.get("/consultation/knowledge/")
    with CaptureQueriesContext(connection) as few:
        c.get("/consultation/knowledge/")
    for _ in range(6):
        published(authority, agent, manager)
    with CaptureQueriesContext(connection) as many:
        c.get("/consultation/knowledge/")
    assert len(many) == len(few)


def test_export_contains_the_filtered_articles(client_for, agent, manager, authority):
    article = published(authority, agent, manager, title='=HYPERLINK("x")怎么办？')
    draft(authority, agent, title="内部条目", visibility="internal")
    services.article_record_usage(version=article.published_version, kind="engine_answer")
    response = client_for(agent).get("/consultation/knowledge/export/?visibility=public")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "条目编号" and len(rows) == 2
    assert rows[1][0] == article.code
    assert rows[1][1].startswith("'=")  # formula neutralised
    assert rows[1][-1] == 1 and rows[1][-2] == 1


# --- synonyms ---------------------------------------------------------------------------------------------


def test_synonym_pages(client_for, agent, manager):
    c = client_for(manager)
    assert (
        c.post(
            "/consultation/knowledge/synonyms/new/", {"term": "个体户", "canonical": "个体工商户"}
        ).status_code
        == 302
    )
    same = c.post("/consultation/knowledge/synonyms/new/", {"term": "执照", "canonical": "执照"})
    assert same.status_code == 400 and "不能与词语相同" in same.content.decode()
    chain = c.post("/consultation/knowledge/synonyms/new/", {"term": "小老板", "canonical": "个体户"})
    assert chain.status_code == 400 and "链式" in chain.content.decode()
    synonym = Synonym.objects.get()
    assert (
        c.post(
            f"/consultation/knowledge/synonyms/{synonym.pk}/edit/",
            {"term": "个体", "canonical": "个体工商户"},
        ).status_code
        == 302
    )
    listing = client_for(agent).get("/consultation/knowledge/synonyms/?q=个体")
    assert listing.status_code == 200 and "个体工商户" in listing.content.decode()
    assert client_for(agent).post(f"/consultation/knowledge/synonyms/{synonym.pk}/delete/").status_code == 403
    assert (
        client_for(agent).post(f"/consultation/knowledge/synonyms/{synonym.pk}/edit/", {}).status_code == 403
    )
    assert c.post(f"/consultation/knowledge/synonyms/{synonym.pk}/delete/").status_code == 302
    assert not Synonym.objects.exists()
    assert c.post("/consultation/knowledge/synonyms/999999/delete/").status_code == 404


# --- gaps -------------------------------------------------------------------------------------------------


def test_gap_list_filters_write_and_dismiss(client_for, agent, manager, authority, other_authority):
    now = timezone.now()
    frequent = make_gap(authority, "营业执照丢了怎么补办", occurrences=9, channel="wechat")
    rare = make_gap(authority, "可以带宠物来办事大厅吗", occurrences=1, at=now - dt.timedelta(days=40))
    make_gap(other_authority, "别的机关的问题", occurrences=50)
    c = client_for(agent)

    def questions(query: str) -> list[str]:
        response = c.get(f"/consultation/knowledge/gaps/?{query}")
        assert response.status_code == 200
        return [gap.question for gap in response.context["page"]]

    assert questions("") == [frequent.question, rare.question]  # sorted by occurrences
    assert questions("min_occurrences=5") == [frequent.question]
    assert questions("channel=wechat") == [frequent.question]
    assert questions(f"date_from={(now - dt.timedelta(days=5)).date().isoformat()}") == [frequent.question]
    bad = c.get("/consultation/knowledge/gaps/?min_occurrences=abc&date_from=2025-13-01")
    assert bad.status_code == 200 and "已忽略" in bad.content.decode()
    reversed_range = c.get("/consultation/knowledge/gaps/?date_from=2025-03-05&date_to=2025-03-01")
    assert reversed_range.status_code == 200 and "起始日期不能晚于截止日期" in reversed_range.content.decode()
    assert "请输入有效日期（YYYY-MM-DD）" in bad.content.decode()

    # Write an article from the gap: the form is prefilled, publishing covers the gap.
    form = c.get(f"/consultation/knowledge/new/?gap={frequent.pk}")
    assert form.status_code == 200 and frequent.question in form.content.decode()
    response = c.post(
        "/consultation/knowledge/new/", {**form_data(title=frequent.question), "gap": frequent.pk}
    )
    assert response.status_code == 302
    article = Article.objects.get()
    assert questions("status=writing") == [frequent.question]
    client_for(agent).post(
        f"/consultation/knowledge/versions/{first_version(article).pk}/do/submit/", {"reason": ""}
    )
    client_for(manager).post(
        f"/consultation/knowledge/versions/{first_version(article).pk}/do/publish/", {"reason": ""}
    )
    frequent.refresh_from_db()
    assert frequent.status == KnowledgeGap.Status.COVERED
    assert questions("status=covered") == [frequent.question]

    # Dismiss with a reason (required).
    assert c.post(f"/consultation/knowledge/gaps/{rare.pk}/dismiss/", {"reason": ""}).status_code == 400
    assert (
        c.post(f"/consultation/knowledge/gaps/{rare.pk}/dismiss/", {"reason": "与登记业务无关"}).status_code
        == 302
    )
    rare.refresh_from_db()
    assert (rare.status, rare.handling_note) == ("dismissed", "与登记业务无关")
    assert c.post(f"/consultation/knowledge/gaps/{rare.pk}/dismiss/", {"reason": "再次"}).status_code == 409
    assert questions("") == []  # default: open gaps only

    export = c.get("/consultation/knowledge/gaps/export/?status=")
    sheet = load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 3 and {r[0] for r in rows[1:]} == {frequent.question, rare.question}

    other_gap = KnowledgeGap.objects.get(authority=other_authority)
    assert c.get(f"/consultation/knowledge/gaps/{other_gap.pk}/dismiss/").status_code == 404
    assert c.get(f"/consultation/knowledge/new/?gap={other_gap.pk}").status_code == 404
