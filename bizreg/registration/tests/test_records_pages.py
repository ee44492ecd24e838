"""Pages of the information-entry/guidance records and the follow-up of online cases: what each role may
open, what the pages show, and bad input."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from bizreg.accounts.roles import ROLES
from bizreg.core.models import AccessLog
from bizreg.registration.models import CaseState, Channel, ContactLog, FollowUpTask, ServiceRecord
from bizreg.registration.services import records as services
from bizreg.registration.tests.records_fixtures import at, make_case
from bizreg.testing import factories

pytestmark = pytest.mark.django_db

ALL = {role.code for role in ROLES}
VIEWERS = {"registration_clerk", "manager"}
CLERK = {"registration_clerk"}


@pytest.fixture
def clerk(role_users):
    return role_users["registration_clerk"]


@pytest.fixture
def enterprise(authority):
    return factories.EnterpriseFactory(authority=authority, name="广州南沙页面测试有限公司")


def record(authority, staff, *, when=None, kind="info_entry", name="广州某某有限公司", **kw) -> ServiceRecord:
    return ServiceRecord.objects.create(
        authority=authority,
        staff=staff,
        kind=kind,
        enterprise_name=name,
        occurred_at=when or timezone.now(),
        minutes=kw.pop("minutes", 5),
        **kw,
    )


def online_task(authority, clerk) -> FollowUpTask:
    case = make_case(authority, channel=Channel.ONE_STOP_ONLINE, state=CaseState.RETURNED)
    return services.follow_up_create(case=case, actor=clerk)


# --- permission matrix ----------------------------------------------------------------------------------

PAGES = [
    ("get", "/registration/records/", VIEWERS, 200),
    ("get", "/registration/records/export/", VIEWERS, 200),
    ("get", "/registration/records/daily/", VIEWERS, 200),
    ("get", "/registration/records/new/", CLERK, 200),
    ("get", "/registration/records/enterprise-options/?enterprise=广州", CLERK, 200),
    ("get", "/registration/follow-ups/", VIEWERS, 200),
    ("get", "/registration/follow-ups/export/", VIEWERS, 200),
    ("get", "/registration/follow-ups/{task}/", VIEWERS, 200),
    ("post", "/registration/follow-ups/open/{case}/", CLERK, 302),
    ("post", "/registration/follow-ups/{task}/contact/", CLERK, 302),
    ("post", "/registration/follow-ups/{task}/assign/", CLERK, 302),
    ("post", "/registration/follow-ups/{task}/reveal-phone/", VIEWERS, 200),
]


@pytest.mark.parametrize(
    ("method", "url", "allowed", "ok"), PAGES, ids=[f"{m} {u}" for m, u, _a, _o in PAGES]
)
def test_role_matrix(authority, role_users, client_for, method, url, allowed, ok):
    clerk = role_users["registration_clerk"]
    for code, user in role_users.items():
        task = online_task(authority, clerk)
        case = make_case(authority, channel=Channel.FULL_ELECTRONIC, state=CaseState.REJECTED)
        path = url.format(task=task.pk, case=case.pk)
        data = {"method": "phone", "result": "已联系"} if "contact" in url else {}
        response = getattr(client_for(user), method)(path, data)
        expected = ok if code in allowed else 403
        assert response.status_code == expected, f"{code} {method} {path}: {response.status_code}"


def test_objects_of_another_authority_answer_404(
    authority, other_authority, role_users, client_for, make_user
):
    other_clerk = make_user("registration_clerk", authorities=[other_authority])
    task = online_task(other_authority, other_clerk)
    case = make_case(other_authority, channel=Channel.ONE_STOP_ONLINE, state=CaseState.WITHDRAWN)
    client = client_for(role_users["registration_clerk"])
    assert client.get(f"/registration/follow-ups/{task.pk}/").status_code == 404
    assert client.post(f"/registration/follow-ups/open/{case.pk}/").status_code == 404
    assert (
        client.post(
            f"/registration/follow-ups/{task.pk}/contact/", {"method": "phone", "result": "x"}
        ).status_code
        == 404
    )
    assert client.post(f"/registration/follow-ups/{task.pk}/assign/", {"assignee": ""}).status_code == 404
    assert not FollowUpTask.objects.filter(case=case).exists()


# --- quick entry ----------------------------------------------------------------------------------------


def test_quick_entry_by_uscc_links_the_enterprise_and_keeps_kind_and_minutes(
    authority, clerk, client_for, enterprise
):
    client = client_for(clerk)
    response = client.post(
        "/registration/records/new/",
        {
            "enterprise": enterprise.uscc.lower(),
            "kind": "online_guidance",
            "minutes": "15",
            "note": "指导网办",
        },
    )
    assert response.status_code == 302
    assert "kind=online_guidance" in response["Location"] and "minutes=15" in response["Location"]
    saved = ServiceRecord.objects.get()
    assert saved.enterprise == enterprise
    assert saved.enterprise_name == enterprise.name
    assert saved.staff == clerk and saved.kind == "online_guidance" and saved.minutes == 15
    page = client.get(response["Location"])
    html = page.content.decode()
    assert 'value="online_guidance" accesskey="2" checked' in html
    assert 'value="15"' in html
    assert "我今天的记录：1 条" in html


def test_quick_entry_by_exact_name_links_the_enterprise(authority, clerk, client_for, enterprise):
    client_for(clerk).post(
        "/registration/records/new/", {"enterprise": enterprise.name, "kind": "info_entry", "minutes": "3"}
    )
    assert ServiceRecord.objects.get().enterprise == enterprise


def test_quick_entry_with_a_case_number(authority, clerk, client_for):
    case = make_case(authority)
    response = client_for(clerk).post(
        "/registration/records/new/",
        {"enterprise": "新设企业", "kind": "info_entry", "minutes": "3", "case_number": case.number.lower()},
    )
    assert response.status_code == 302
    assert ServiceRecord.objects.get().case == case


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"enterprise": ""}, "enterprise", "请填写"),
        ({"minutes": "abc"}, "minutes", "整数分钟"),
        ({"minutes": "0"}, "minutes", "至少 1 分钟"),
        ({"minutes": "600"}, "minutes", "不能超过 480 分钟"),
        ({"kind": "other"}, "kind", ""),
        ({"enterprise": "91440115MA59C7R27X"}, "enterprise", "没有统一社会信用代码为"),
        ({"case_number": "NOPE123"}, "case_number", "没有找到业务编号"),
    ],
)
def test_quick_entry_bad_input_is_a_form_error(clerk, client_for, data, field, message):
    payload = {"enterprise": "广州某公司", "kind": "info_entry", "minutes": "5"} | data
    response = client_for(clerk).post("/registration/records/new/", payload)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'data-field-error="{field}"' in html
    assert message in html
    assert not ServiceRecord.objects.exists()


def test_a_case_of_another_authority_cannot_be_named(other_authority, clerk, client_for):
    case = make_case(other_authority)
    response = client_for(clerk).post(
        "/registration/records/new/",
        {"enterprise": "广州某公司", "kind": "info_entry", "minutes": "5", "case_number": case.number},
    )
    assert response.status_code == 400
    assert not ServiceRecord.objects.exists()


def test_enterprise_options_suggest_visible_enterprises_only(authority, other_authority, clerk, client_for):
    factories.EnterpriseFactory(authority=authority, name="广州南沙瑞丰贸易有限公司")
    factories.EnterpriseFactory(authority=other_authority, name="广州天河瑞丰贸易有限公司")
    html = client_for(clerk).get("/registration/records/enterprise-options/?enterprise=瑞丰").content.decode()
    assert "南沙瑞丰" in html
    assert "天河瑞丰" not in html


# --- list, filters, export, daily counts ----------------------------------------------------------------


@pytest.fixture
def two_staff(authority, make_user):
    return make_user("registration_clerk", display_name="甲"), make_user(
        "registration_clerk", display_name="乙"
    )


@pytest.fixture
def sample(authority, other_authority, two_staff, make_user):
    a, b = two_staff
    record(authority, a, when=at(dt.date(2023, 5, 8), 9), name="广州甲一有限公司")
    record(authority, a, when=at(dt.date(2023, 5, 8), 15), kind="online_guidance", name="广州甲二有限公司")
    record(authority, b, when=at(dt.date(2023, 5, 9), 10), name="广州乙一有限公司", note="变更录入")
    record(authority, b, when=at(dt.date(2023, 6, 1), 10), name="广州乙二有限公司")
    stranger = make_user("registration_clerk", authorities=[other_authority])
    record(other_authority, stranger, when=at(dt.date(2023, 5, 8), 9), name="外区机密有限公司")


def names(response) -> set[str]:
    return {r.enterprise_name for r in response.context["page"]}


def test_list_filters(clerk, client_for, two_staff, sample):
    client = client_for(clerk)
    a, b = two_staff
    assert names(client.get("/registration/records/")) == {
        "广州甲一有限公司",
        "广州甲二有限公司",
        "广州乙一有限公司",
        "广州乙二有限公司",
    }
    assert names(client.get("/registration/records/?kind=online_guidance")) == {"广州甲二有限公司"}
    assert names(client.get(f"/registration/records/?staff={b.pk}")) == {
        "广州乙一有限公司",
        "广州乙二有限公司",
    }
    assert names(client.get("/registration/records/?date_from=2023-05-08&date_to=2023-05-08")) == {
        "广州甲一有限公司",
        "广州甲二有限公司",
    }
    assert names(client.get("/registration/records/?q=变更")) == {"广州乙一有限公司"}


def test_the_staff_filter_offers_who_does_this_work(clerk, client_for, two_staff, make_user, authority):
    """Window staff (who record) and anyone with a record or a follow-up here; not the archivist,
    the hotline agent or the administrator, nor another authority's clerk."""
    a, b = two_staff
    former = make_user("archivist", display_name="丙（原窗口）")
    record(authority, former, name="广州丙一有限公司")
    make_user("archivist", display_name="丁档案")
    make_user("hotline_agent", display_name="戊坐席")
    make_user(None, display_name="己管理员", is_superuser=True)
    make_user("registration_clerk", authorities=[factories.AuthorityFactory()], display_name="庚外区")
    page = client_for(clerk).get("/registration/records/")
    offered = [str(user) for user in page.context["form"].fields["staff"].queryset]
    assert {"甲", "乙", "丙（原窗口）", str(clerk)} == set(offered)
    assert client_for(clerk).get(f"/registration/records/?staff={former.pk}").status_code == 200
    assert names(client_for(clerk).get(f"/registration/records/?staff={former.pk}")) == {"广州丙一有限公司"}


@pytest.mark.parametrize(
    "query", ["date_from=2023-13-01", "staff=999999", "kind=nope", "date_from=2023-06-01&date_to=2023-05-01"]
)
def test_bad_filters_are_shown_and_ignored(clerk, client_for, sample, query):
    response = client_for(clerk).get(f"/registration/records/?{query}")
    assert response.status_code == 200
    assert 'data-testid="filter-errors"' in response.content.decode()
    assert len(names(response)) == 4


def test_list_query_count_does_not_grow_with_rows(authority, clerk, client_for, enterprise):
    case = make_case(authority)
    for n in range(3):
        record(authority, clerk, enterprise=enterprise, case=case, name=f"企业{n}")
    client = client_for(clerk)
    with CaptureQueriesContext(connection) as few:
        client.get("/registration/records/")
    for n in range(30):
        record(authority, clerk, enterprise=enterprise, case=case, name=f"更多企业{n}")
    with CaptureQueriesContext(connection) as many:
        client.get("/registration/records/")
    assert len(many) == len(few)


def test_pagination(authority, clerk, client_for):
    for n in range(55):
        record(authority, clerk, name=f"分页企业{n:02d}", when=timezone.now() - dt.timedelta(minutes=n))
    client = client_for(clerk)
    first = client.get("/registration/records/")
    second = client.get("/registration/records/?page=2")
    assert len(first.context["page"]) == 50
    assert len(second.context["page"]) == 5
    assert names(first).isdisjoint(names(second))
    assert client.get("/registration/records/?page=abc").status_code == 200


def test_export_follows_the_filters(clerk, client_for, two_staff, sample):
    a, _b = two_staff
    response = client_for(clerk).get(f"/registration/records/export/?staff={a.pk}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("时间", "类型", "工作人员", "企业名称")
    assert sorted(r[3] for r in rows[1:]) == ["广州甲一有限公司", "广州甲二有限公司"]
    assert {r[2] for r in rows[1:]} == {"甲"}


def test_export_neutralizes_formulas(authority, clerk, client_for):
    record(authority, clerk, name='=HYPERLINK("x")')
    response = client_for(clerk).get("/registration/records/export/")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).worksheets[0]
    assert list(sheet.iter_rows(values_only=True))[1][3] == '\'=HYPERLINK("x")'


def test_export_with_bad_filters_redirects_with_a_message(clerk, client_for, sample):
    response = client_for(clerk).get("/registration/records/export/?date_from=bad", follow=True)
    assert "筛选条件无效" in response.content.decode()


def test_daily_counts_per_staff(clerk, client_for, two_staff, sample):
    response = client_for(clerk).get("/registration/records/daily/?date_from=2023-05-08&date_to=2023-05-09")
    counts = response.context["counts"]
    assert counts.days == [dt.date(2023, 5, 8), dt.date(2023, 5, 9)]
    by_name = {str(row["staff"]): row["counts"] for row in counts.rows}
    assert by_name == {"甲": [2, 0], "乙": [0, 1]}
    assert counts.day_totals == [2, 1]
    assert counts.total == 3
    kind_only = client_for(clerk).get(
        "/registration/records/daily/?date_from=2023-05-08&date_to=2023-05-09&kind=online_guidance"
    )
    assert kind_only.context["counts"].total == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date_from=2023-01-01&date_to=2023-06-30", "不能超过 62 天"),
        ("date_from=2023-05-09&date_to=2023-05-01", "起始日期不能晚于截止日期"),
        ("date_from=yesterday", "有效日期"),
    ],
)
def test_daily_counts_bad_range(clerk, client_for, query, message):
    response = client_for(clerk).get(f"/registration/records/daily/?{query}")
    assert response.status_code == 400
    assert message in response.content.decode()


# --- follow-up pages ------------------------------------------------------------------------------------


def test_follow_up_list_shows_candidates_and_open_tasks(authority, clerk, client_for):
    waiting = make_case(authority, channel=Channel.FULL_ELECTRONIC, state=CaseState.REJECTED)
    make_case(authority, channel=Channel.WINDOW, state=CaseState.RETURNED)  # window: no follow-up
    task = online_task(authority, clerk)
    response = client_for(clerk).get("/registration/follow-ups/")
    assert [c.pk for c in response.context["candidates"]] == [waiting.pk]
    assert [t.pk for t in response.context["page"]] == [task.pk]


def test_follow_up_list_filters_by_status_assignee_reason_overdue_and_text(
    authority, clerk, client_for, two_staff
):
    a, b = two_staff
    returned = services.follow_up_create(
        case=make_case(authority, channel=Channel.ONE_STOP_ONLINE, state=CaseState.RETURNED),
        actor=clerk,
        assignee=a,
    )
    rejected = services.follow_up_create(
        case=make_case(
            authority,
            channel=Channel.FULL_ELECTRONIC,
            state=CaseState.REJECTED,
            enterprise_name="广州南沙筛选专用有限公司",
        ),
        actor=clerk,
        assignee=b,
    )
    done = online_task(authority, clerk)
    services.contact_log_add(task=done, actor=clerk, method="phone", result="已电话指导")
    services.follow_up_close(task=done, actor=clerk, outcome="申请人已重新提交")
    FollowUpTask.objects.filter(pk=returned.pk).update(due_on=timezone.localdate() - dt.timedelta(days=1))
    client = client_for(clerk)

    def shown(query: str = "") -> set[int]:
        response = client.get(f"/registration/follow-ups/{query}")
        assert response.status_code == 200
        return {task.pk for task in response.context["page"]}

    assert shown() == {returned.pk, rejected.pk}  # the page opens on the open tasks
    assert shown("?status=") == {returned.pk, rejected.pk, done.pk}
    # Open tasks first, the most urgent on top, then the finished ones.
    listed = client.get("/registration/follow-ups/?status=").context["page"]
    assert [task.pk for task in listed] == [returned.pk, rejected.pk, done.pk]
    assert shown("?status=done") == {done.pk}
    assert shown(f"?status=&assignee={b.pk}") == {rejected.pk}
    assert shown("?status=&reason=rejected") == {rejected.pk}
    assert shown("?status=&overdue=on") == {returned.pk}
    assert shown("?status=&q=筛选专用") == {rejected.pk}
    assert shown(f"?status=&q={returned.case.number.lower()}") == {returned.pk}
    # The tabs keep the other filters.
    page = client.get(f"/registration/follow-ups/?status=open&assignee={a.pk}").content.decode()
    assert f'href="?status=done&amp;assignee={a.pk}"' in page


def test_follow_up_list_ignores_bad_filters_and_says_so(authority, clerk, client_for, other_authority):
    task = online_task(authority, clerk)
    stranger = factories.UserFactory(role="registration_clerk", authorities=[other_authority])
    for query, message in (
        (f"?assignee={stranger.pk}", "所选负责人不存在或不属于本登记机关"),
        ("?assignee=abc", "所选负责人不存在或不属于本登记机关"),
        ("?status=lost", "跟进状态“lost”无效"),
        ("?reason=approved", "原因“approved”无效"),
    ):
        response = client_for(clerk).get(f"/registration/follow-ups/{query}")
        assert response.status_code == 200
        assert message in response.content.decode(), query
        assert [t.pk for t in response.context["page"]] == [task.pk]


def test_follow_up_export_follows_the_filters(authority, clerk, client_for, two_staff):
    a, _b = two_staff
    mine = services.follow_up_create(
        case=make_case(authority, channel=Channel.ONE_STOP_ONLINE, state=CaseState.RETURNED),
        actor=clerk,
        assignee=a,
    )
    online_task(authority, clerk)
    response = client_for(clerk).get(f"/registration/follow-ups/export/?status=open&assignee={a.pk}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("业务编号", "业务类型", "办理渠道", "企业名称", "原因")
    assert [(r[0], r[4], r[7], r[9]) for r in rows[1:]] == [(mine.case.number, "已退回补正", "甲", "待跟进")]
    refused = client_for(clerk).get("/registration/follow-ups/export/?assignee=abc", follow=True)
    assert "筛选条件无效" in refused.content.decode()


def test_open_contact_close_through_the_pages(authority, clerk, client_for):
    case = make_case(
        authority, channel=Channel.ONE_STOP_ONLINE, state=CaseState.WITHDRAWN, applicant_phone="13912345678"
    )
    client = client_for(clerk)
    response = client.post(f"/registration/follow-ups/open/{case.pk}/")
    task = FollowUpTask.objects.get(case=case)
    assert response["Location"] == f"/registration/follow-ups/{task.pk}/"
    detail = client.get(response["Location"]).content.decode()
    assert "139****5678" in detail
    assert f'href="/registration/cases/{case.pk}/" data-testid="case-link"' in detail
    assert "13912345678" not in detail
    assert client.post(f"/registration/follow-ups/{task.pk}/close/", {"outcome": "完成"}).status_code == 400
    client.post(f"/registration/follow-ups/{task.pk}/contact/", {"method": "phone", "result": "已电话指导"})
    assert ContactLog.objects.get().result == "已电话指导"
    response = client.post(f"/registration/follow-ups/{task.pk}/close/", {"outcome": "申请人已重新提交"})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == FollowUpTask.Status.DONE


def test_assigning_a_task_through_its_page(
    authority, other_authority, clerk, client_for, two_staff, make_user
):
    """The task's page names who follows it up (未指派 until someone takes it) and lets a clerk hand it to a
    colleague who does this work; someone else, of another authority or a closed task is refused."""
    task = online_task(authority, clerk)
    colleague, _other = two_staff
    client = client_for(clerk)
    detail = client.get(f"/registration/follow-ups/{task.pk}/").content.decode()
    assert 'data-testid="assignee">未指派<' in detail and 'data-testid="assign-form"' in detail
    response = client.post(f"/registration/follow-ups/{task.pk}/assign/", {"assignee": colleague.pk})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.assignee == colleague
    assert task.history.latest().history_user == clerk
    listing = client.get("/registration/follow-ups/").content.decode()
    assert "甲" in listing
    for stranger in (make_user("archivist"), make_user("registration_clerk", authorities=[other_authority])):
        refused = client.post(f"/registration/follow-ups/{task.pk}/assign/", {"assignee": stranger.pk})
        assert refused.status_code == 400 and "选择一个有效的选项" in refused.content.decode()
    task.refresh_from_db()
    assert task.assignee == colleague
    client.post(f"/registration/follow-ups/{task.pk}/contact/", {"method": "phone", "result": "已联系"})
    client.post(f"/registration/follow-ups/{task.pk}/close/", {"outcome": "已重新提交"})
    closed = client.post(f"/registration/follow-ups/{task.pk}/assign/", {"assignee": clerk.pk}, follow=True)
    assert "不能再修改" in closed.content.decode()
    task.refresh_from_db()
    assert task.assignee == colleague
    manager_view = client_for(make_user("manager")).get(f"/registration/follow-ups/{task.pk}/")
    assert 'data-testid="assign-form"' not in manager_view.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [({"method": "pigeon", "result": "x"}, "选择"), ({"method": "phone", "result": ""}, "请填写")],
)
def test_contact_bad_input_is_a_form_error(authority, clerk, client_for, data, message):
    task = online_task(authority, clerk)
    response = client_for(clerk).post(f"/registration/follow-ups/{task.pk}/contact/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ContactLog.objects.exists()


def test_revealing_the_phone_is_logged(authority, clerk, client_for):
    task = online_task(authority, clerk)
    response = client_for(clerk).post(f"/registration/follow-ups/{task.pk}/reveal-phone/")
    assert "13800138000" in response.content.decode()
    log = AccessLog.objects.get()
    assert log.user == clerk
    assert log.object_label == task.case.number
    assert "applicant_phone" in log.fields
