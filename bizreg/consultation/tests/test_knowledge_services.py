"""Knowledge-base services: the review workflow (four-eyes, states, roles), publishing (supersede, revision
bump, review-by), validation, freshness and its notification, usage, synonyms and knowledge gaps."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from bizreg.consultation import engine
from bizreg.consultation.models import (
    Article,
    ArticleTransitionLog,
    ArticleUsage,
    ArticleVersionState,
    KnowledgeGap,
    Synonym,
)
from bizreg.consultation.services import knowledge as services
from bizreg.consultation.tests.knowledge_fixtures import (
    content,
    draft,
    first_version,
    make_gap,
    publish,
    published,
    revision,
)
from bizreg.core.statemachine import TransitionNotAllowed

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(role_users):
    return role_users["hotline_agent"]


@pytest.fixture
def manager(role_users):
    return role_users["manager"]


# --- creation and codes --------------------------------------------------------------------------------


def test_create_numbers_articles_per_authority_and_sets_review_by(
    authority, other_authority, agent, make_user
):
    a1 = draft(authority, agent)
    a2 = draft(authority, agent)
    other_agent = make_user("hotline_agent", authorities=[other_authority])
    b1 = draft(other_authority, other_agent)
    assert (a1.code, a2.code, b1.code) == ("KB-0001", "KB-0002", "KB-0001")
    assert a1.owner == agent
    assert a1.review_by == timezone.localdate() + dt.timedelta(days=180)
    version = first_version(a1)
    assert (version.state, version.number, version.author) == (ArticleVersionState.DRAFT, 1, agent)
    assert a1.published_version is None
    assert ArticleTransitionLog.objects.filter(version=version, action="create", actor=agent).exists()


def test_code_sequence_continues_past_four_digits(authority, agent):
    Article.objects.create(authority=authority, code="KB-9999", owner=agent, review_by=timezone.localdate())
    assert draft(authority, agent).code == "KB-10000"
    assert draft(authority, agent).code == "KB-10001"


def test_review_period_follows_the_setting(settings, authority, agent):
    settings.CONSULTATION_REVIEW_PERIOD_DAYS = 30
    assert draft(authority, agent).review_by == timezone.localdate() + dt.timedelta(days=30)


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"title": "  "}, "title", "请填写标准问题"),
        ({"title": "问" * 201}, "title", "不能超过 200"),
        ({"answer": ""}, "answer", "请填写答案"),
        ({"question_variants": "个体户怎么注销\n个体户 怎么注销？"}, "question_variants", "重复"),
        ({"title": "怎么注销", "question_variants": "怎么注销？"}, "question_variants", "标准问题"),
        ({"case_types": ["establishment", "no_such_type"]}, "case_types", "未知的业务类型：no_such_type"),
        ({"topic": "weather"}, "topic", "未知的咨询主题"),
        ({"visibility": "secret"}, "visibility", "公开范围"),
    ],
)
def test_bad_content_is_refused_with_the_reason(authority, agent, overrides, field, fragment):
    with pytest.raises(ValidationError) as exc:
        draft(authority, agent, **overrides)
    assert fragment in " ".join(exc.value.message_dict[field])
    assert not Article.objects.exists()


def test_content_is_normalised(authority, agent):
    article = draft(
        authority,
        agent,
        title="  公司怎么变更地址？ ",
        question_variants="\n 换地址怎么办 \n\n搬家要变更吗\n",
        case_types=["change", "establishment", "change"],
    )
    version = first_version(article)
    assert version.title == "公司怎么变更地址？"
    assert version.variants() == ["换地址怎么办", "搬家要变更吗"]
    assert version.case_types == ["establishment", "change"]


def test_only_roles_with_add_article_create(authority, role_users):
    for role in ("manager", "registration_clerk", "finance_officer"):
        with pytest.raises(PermissionDenied):
            draft(authority, role_users[role])


# --- the review workflow -------------------------------------------------------------------------------


def test_four_eyes_author_cannot_publish_own_version(authority, make_user):
    lead = make_user("manager")
    agent_user = make_user("hotline_agent")
    article = draft(authority, agent_user)
    # The manager drafts the next version themself: they may submit it but never publish it.
    other_lead = make_user("manager")
    publish(first_version(article), agent_user, other_lead)
    v2 = services.version_draft(article=article, actor=lead, data=content())
    v2 = services.version_transition(version=v2, action="submit", actor=lead)
    with pytest.raises(PermissionDenied, match="四眼原则"):
        services.version_transition(version=v2, action="publish", actor=lead)
    v2.refresh_from_db()
    assert v2.state == ArticleVersionState.IN_REVIEW
    published_v2 = services.version_transition(version=v2, action="publish", actor=other_lead)
    assert published_v2.state == ArticleVersionState.PUBLISHED


def test_wrong_state_is_refused_with_the_reason(authority, agent, manager):
    version = first_version(draft(authority, agent))
    with pytest.raises(TransitionNotAllowed, match="当前状态为“草稿”，不能执行“审核通过并发布”"):
        services.version_transition(version=version, action="publish", actor=manager)
    with pytest.raises(TransitionNotAllowed, match="被新版本替代"):
        services.version_transition(version=version, action="supersede", actor=manager)


def test_wrong_role_is_refused(authority, agent, role_users):
    version = services.version_transition(
        version=first_version(draft(authority, agent)), action="submit", actor=agent
    )
    with pytest.raises(PermissionDenied):
        services.version_transition(version=version, action="publish", actor=agent)
    with pytest.raises(PermissionDenied):
        services.version_transition(version=version, action="reject", actor=role_users["registration_clerk"])


def test_reject_needs_a_comment_and_the_author_can_resubmit(authority, agent, manager):
    version = services.version_transition(
        version=first_version(draft(authority, agent)), action="submit", actor=agent
    )
    with pytest.raises(ValidationError):
        services.version_transition(version=version, action="reject", actor=manager, reason="  ")
    version = services.version_transition(
        version=version, action="reject", actor=manager, reason="依据条款写错了"
    )
    assert (version.state, version.review_comment, version.reviewer) == (
        "rejected",
        "依据条款写错了",
        manager,
    )
    version = services.version_update(version=version, actor=agent, data=content(legal_basis="正确的条款"))
    version = services.version_transition(version=version, action="submit", actor=agent)
    assert version.state == ArticleVersionState.IN_REVIEW
    actions = list(ArticleTransitionLog.objects.filter(version=version).values_list("action", flat=True))
    assert actions == ["create", "submit", "reject", "submit"]


def test_in_review_version_cannot_be_edited(authority, agent):
    version = services.version_transition(
        version=first_version(draft(authority, agent)), action="submit", actor=agent
    )
    with pytest.raises(TransitionNotAllowed, match="不能修改"):
        services.version_update(version=version, actor=agent, data=content())


def test_publish_supersedes_previous_bumps_revision_and_moves_review_by(authority, agent, manager):
    article = published(authority, agent, manager)
    v1 = first_version(article)
    assert article.published_version == v1
    assert revision(authority) == 1
    Article.objects.filter(pk=article.pk).update(
        review_by=timezone.localdate() - dt.timedelta(days=3), stale_notified_at=timezone.now()
    )
    v2 = services.version_draft(article=article, actor=agent, data=content(answer="新的办理流程：全程网办。"))
    assert v2.number == 2
    publish(v2, agent, manager)
    article.refresh_from_db()
    v1.refresh_from_db()
    v2.refresh_from_db()
    assert v1.state == ArticleVersionState.SUPERSEDED
    assert (v2.state, v2.reviewer, article.published_version) == ("published", manager, v2)
    assert article.review_by == timezone.localdate() + dt.timedelta(days=180)
    assert article.stale_notified_at is None
    assert revision(authority) == 2
    assert ArticleTransitionLog.objects.filter(version=v1, action="supersede", actor=manager).exists()


def test_publishing_changes_the_next_engine_answer(authority, agent, manager):
    article = published(
        authority, agent, manager, title="营业执照遗失了怎么补领？", answer="旧答案：到窗口补领。"
    )
    first = engine.search(authority_id=authority.pk, query="营业执照遗失了怎么补领", audience="internal")
    assert first and first[0].version_id == article.published_version_id
    v2 = services.version_draft(
        article=article,
        actor=agent,
        data=content(title="营业执照遗失了怎么补领？", answer="新答案：网上申请补领，免费邮寄。"),
    )
    publish(v2, agent, manager)
    second = engine.search(authority_id=authority.pk, query="营业执照遗失了怎么补领", audience="internal")
    assert second[0].version_id == v2.pk


def test_only_one_unpublished_version_at_a_time(authority, agent, manager):
    article = published(authority, agent, manager)
    services.version_draft(article=article, actor=agent, data=content())
    with pytest.raises(TransitionNotAllowed, match="未发布的版本 v2"):
        services.version_draft(article=article, actor=agent, data=content())


def test_retire_and_unretire_bump_the_revision_and_are_logged(authority, agent, manager):
    article = published(authority, agent, manager)
    with pytest.raises(ValidationError):
        services.article_retire(article=article, actor=manager, reason="")
    with pytest.raises(PermissionDenied):
        services.article_retire(article=article, actor=agent, reason="政策废止")
    services.article_retire(article=article, actor=manager, reason="政策废止")
    assert revision(authority) == 2
    with pytest.raises(TransitionNotAllowed):
        services.article_retire(article=article, actor=manager, reason="再次")
    v2 = services.version_draft(article=article, actor=agent, data=content())
    v2 = services.version_transition(version=v2, action="submit", actor=agent)
    with pytest.raises(TransitionNotAllowed, match="已停用"):
        services.version_transition(version=v2, action="publish", actor=manager)
    services.article_unretire(article=article, actor=manager)
    assert revision(authority) == 3
    actions = set(
        ArticleTransitionLog.objects.filter(version__article=article).values_list("action", flat=True)
    )
    assert {"retire", "unretire"} <= actions


# --- freshness -----------------------------------------------------------------------------------------


def test_notify_stale_articles_flags_each_once_per_period(authority, agent, manager):
    today = timezone.localdate()
    stale = published(authority, agent, manager)
    fresh = published(authority, agent, manager)
    unpublished = draft(authority, agent)
    retired = published(authority, agent, manager)
    services.article_retire(article=retired, actor=manager, reason="停用")
    Article.objects.filter(pk__in=[stale.pk, unpublished.pk, retired.pk]).update(
        review_by=today - dt.timedelta(days=1)
    )

    assert services.notify_stale_articles() == 1
    assert services.notify_stale_articles() == 0  # idempotent
    flagged = set(Article.objects.filter(stale_notified_at__isnull=False).values_list("pk", flat=True))
    assert flagged == {stale.pk}
    assert fresh.pk not in flagged

    # Confirming re-sets the date and the flag: the next staleness period flags it again.
    services.article_confirm_current(article=stale, actor=agent)
    stale.refresh_from_db()
    assert stale.review_by == today + dt.timedelta(days=180) and stale.stale_notified_at is None
    assert services.notify_stale_articles(today=stale.review_by + dt.timedelta(days=1)) == 2
    assert ArticleTransitionLog.objects.filter(action="confirm_current", actor=agent).exists()


def test_confirm_current_only_by_owner_or_reviewer_and_only_when_published(
    authority, agent, manager, make_user
):
    article = published(authority, agent, manager)
    colleague = make_user("hotline_agent")
    with pytest.raises(PermissionDenied):
        services.article_confirm_current(article=article, actor=colleague)
    services.article_confirm_current(article=article, actor=manager)
    with pytest.raises(TransitionNotAllowed):
        services.article_confirm_current(article=draft(authority, agent), actor=agent)


def test_settings_update_changes_owner_and_review_by(authority, agent, manager, make_user):
    article = published(authority, agent, manager)
    other = make_user("hotline_agent")
    day = timezone.localdate() + dt.timedelta(days=10)
    services.article_settings_update(article=article, actor=manager, owner=other, review_by=day)
    article.refresh_from_db()
    assert (article.owner, article.review_by) == (other, day)
    with pytest.raises(ValidationError):
        services.article_settings_update(
            article=article, actor=manager, owner=other, review_by=timezone.localdate() - dt.timedelta(days=1)
        )
    with pytest.raises(ValidationError):
        services.article_settings_update(
            article=article, actor=manager, owner=make_user("finance_officer"), review_by=day
        )
    with pytest.raises(PermissionDenied):
        services.article_settings_update(article=article, actor=agent, owner=agent, review_by=day)


# --- usage ---------------------------------------------------------------------------------------------


def test_record_usage_counts(authority, agent, manager):
    article = published(authority, agent, manager)
    version = article.published_version
    services.article_record_usage(version=version, kind="engine_answer", channel="wechat")
    services.article_record_usage(version=version, kind="public_view")
    article.refresh_from_db()
    assert article.usage_count == 2
    assert ArticleUsage.objects.filter(article=article, kind="engine_answer", channel="wechat").count() == 1
    with pytest.raises(ValueError):
        services.article_record_usage(version=version, kind="bogus")


def test_revision_bump_creates_the_row(authority):
    assert services.kb_revision_bump(authority.pk) == 1
    assert services.kb_revision_bump(authority.pk) == 2


# --- synonyms ------------------------------------------------------------------------------------------


def test_synonym_rules_and_revision_bump(authority, other_authority, manager, agent):
    services.synonym_create(actor=manager, term="个体户", canonical="个体工商户")
    assert (revision(authority), revision(other_authority)) == (1, 1)
    cases = [
        ("执照", "执照", "canonical", "不能与词语相同"),
        ("个体户", "个人独资企业", "term", "已有同义词"),
        ("小老板", "个体户", "canonical", "链式改写"),  # 小老板→个体户→个体工商户
        ("个体工商户", "个体经营者", "term", "链式改写"),  # 个体户→个体工商户→个体经营者
        ("", "营业执照", "term", "请填写词语"),
        ("执照", "", "canonical", "请填写标准词"),
    ]
    for term, canonical, field, fragment in cases:
        with pytest.raises(ValidationError) as exc:
            services.synonym_create(actor=manager, term=term, canonical=canonical)
        assert fragment in " ".join(exc.value.message_dict[field]), (term, canonical)
    assert Synonym.objects.count() == 1
    with pytest.raises(PermissionDenied):
        services.synonym_create(actor=agent, term="执照", canonical="营业执照")


def test_synonym_update_checks_cycles_and_delete_bumps(authority, manager):
    a = services.synonym_create(actor=manager, term="执照", canonical="营业执照")
    b = services.synonym_create(actor=manager, term="个体户", canonical="个体工商户")
    with pytest.raises(ValidationError, match="链式"):
        services.synonym_update(synonym=b, actor=manager, term="营业执照", canonical="执照")
    services.synonym_update(synonym=a, actor=manager, term="牌照", canonical="营业执照")
    assert Synonym.objects.filter(term="牌照").exists()
    before = revision(authority)
    services.synonym_delete(synonym=b, actor=manager)
    assert revision(authority) == before + 1
    assert not Synonym.objects.filter(pk=b.pk).exists()


# --- gaps ----------------------------------------------------------------------------------------------


def test_gap_to_article_to_covered(authority, agent, manager):
    gap = make_gap(authority)
    article = services.article_create(
        authority=authority, actor=agent, data=content(title=gap.question), gap=gap
    )
    gap.refresh_from_db()
    assert (gap.status, gap.covered_by) == (KnowledgeGap.Status.OPEN, article)  # being written
    publish(first_version(article), agent, manager)
    gap.refresh_from_db()
    assert gap.status == KnowledgeGap.Status.COVERED
    assert gap.handled_by == agent and gap.handled_at is not None


def test_gap_dismiss_needs_reason_and_open_state(authority, agent, role_users):
    gap = make_gap(authority)
    with pytest.raises(ValidationError):
        services.gap_dismiss(gap=gap, actor=agent, reason=" ")
    with pytest.raises(ValidationError):
        services.gap_dismiss(gap=gap, actor=agent, reason="长" * 301)
    with pytest.raises(PermissionDenied):
        services.gap_dismiss(gap=gap, actor=role_users["registration_clerk"], reason="闲聊")
    gap = services.gap_dismiss(gap=gap, actor=agent, reason="闲聊，与登记无关")
    assert (gap.status, gap.handling_note) == ("dismissed", "闲聊，与登记无关")
    with pytest.raises(TransitionNotAllowed):
        services.gap_dismiss(gap=gap, actor=agent, reason="再次")
    gap = services.gap_reopen(gap=gap, actor=agent)
    assert gap.status == "open" and gap.handling_note == ""
