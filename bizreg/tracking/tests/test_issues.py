"""Business-environment issues: the workflow through the services (every bad input refused with its message),
then the pages with their role matrix."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from openpyxl import load_workbook

from bizreg.core.statemachine import TransitionNotAllowed
from bizreg.tracking.models import BusinessIssue, Department, ImprovementMeasure, IssueState, MeasureState
from bizreg.tracking.services import issues as services
from bizreg.tracking.tests.fixtures_reports import *  # noqa: F403 — fixtures
from bizreg.tracking.tests.fixtures_reports import appeal, visit

pytestmark = pytest.mark.django_db
D = dt.date
TODAY = dt.date.today()


def new_issue(authority, officer, **overrides):
    data = {
        "authority": authority,
        "actor": officer,
        "title": "企业开办银行开户时间长",
        "category": "approval",
        "description": "多家新设企业反映银行开户需等待两周以上。",
        "owner": officer,
        "found_on": D(2024, 5, 6),
    }
    data.update(overrides)
    return services.issue_create(**data)


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict


# --- services ---------------------------------------------------------------------------------------------


def test_the_whole_workflow_with_history(authority, officer, department, company):
    a = appeal(authority, company, officer, D(2024, 5, 1), "approval")
    v = visit(authority, company, officer, D(2024, 5, 2))
    issue = new_issue(authority, officer, appeal_ids=[a.pk], visit_ids=[str(v.pk)])
    assert issue.state == IssueState.OPEN
    assert list(issue.appeals.all()) == [a] and list(issue.visits.all()) == [v]

    issue = services.issue_analyse(issue=issue, actor=officer, analysis="银行审核流程长，网点预约名额不足。")
    assert issue.state == IssueState.ANALYSED
    first = services.measure_add(
        issue=issue, actor=officer, description="协调银行开设企业开户绿色通道", due_on="2024-06-30",
        owner_department=department,
    )  # fmt: skip
    issue.refresh_from_db()
    assert issue.state == IssueState.IMPROVING and first.state == MeasureState.PLANNED
    second = services.measure_add(
        issue=issue, actor=officer, description="开户预约线上化", due_on=D(2024, 7, 15)
    )
    first = services.measure_start(measure=first, actor=officer)
    assert first.state == MeasureState.IN_PROGRESS
    services.measure_done(measure=first, actor=officer, done_on=D(2024, 6, 20))

    with pytest.raises(ValidationError) as excinfo:
        services.issue_resolve(issue=issue, actor=officer)
    message = errors_of(excinfo)["measures"][0]
    assert "开户预约线上化" in message and "计划中" in message
    assert "绿色通道" not in message

    services.measure_done(measure=second, actor=officer)
    issue = services.issue_resolve(issue=issue, actor=officer, resolved_on=D(2024, 7, 1))
    assert issue.state == IssueState.RESOLVED and issue.resolved_on == D(2024, 7, 1)

    issue = services.issue_reopen(issue=issue, actor=officer, reason="开户时间再次变长")
    assert issue.state == IssueState.IMPROVING and issue.resolved_on is None

    reasons = list(issue.history.order_by("history_id").values_list("history_change_reason", "state"))
    assert reasons[0] == ("登记问题", "open")
    assert ("完成原因分析", "analysed") in reasons
    assert ("制定改进措施", "improving") in reasons
    assert ("确认解决", "resolved") in reasons
    assert reasons[-1] == ("重新打开：开户时间再次变长", "improving")
    assert all(h.history_user_id == officer.pk for h in issue.history.all())
    measure_history = first.history.order_by("history_id").values_list("history_change_reason", flat=True)
    assert list(measure_history) == ["制定改进措施", "开始实施", "确认完成"]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": " "}, "title", "请填写问题。"),
        ({"description": ""}, "description", "请填写问题描述。"),
        ({"category": "weather"}, "category", "问题类别不正确。"),
        ({"category": ""}, "category", "请选择问题类别。"),
        ({"owner": None}, "owner", "请选择责任人。"),
        ({"owner": 999999}, "owner", "责任人不存在或已停用。"),
        ({"found_on": TODAY + dt.timedelta(days=1)}, "found_on", "发现日期不能晚于今天。"),
        ({"found_on": "2024-13-01"}, "found_on", "发现日期格式不正确（应为 YYYY-MM-DD）。"),
        ({"title": "问" * 201}, "title", "问题不能超过 200 个字。"),
        ({"appeal_ids": ["x"]}, "appeals", "诉求编号不正确：x"),
    ],
)
def test_create_refuses_bad_input(authority, officer, overrides, field, message):
    with pytest.raises(ValidationError) as excinfo:
        new_issue(authority, officer, **overrides)
    assert message in errors_of(excinfo)[field]
    assert not BusinessIssue.objects.exists()


def test_owner_must_be_an_officer_of_the_authority(authority, officer, clerk, stranger):
    with pytest.raises(ValidationError) as excinfo:
        new_issue(authority, officer, owner=clerk)
    assert "责任人须为可办理营商环境问题的人员（企业服务专员）。" in errors_of(excinfo)["owner"]
    with pytest.raises(ValidationError) as excinfo:
        new_issue(authority, officer, owner=stranger.pk)
    assert "责任人不属于本登记机关。" in errors_of(excinfo)["owner"]


def test_links_must_be_of_the_same_authority(authority, other_authority, officer, stranger):
    from bizreg.testing.factories import EnterpriseFactory

    foreign = EnterpriseFactory(authority=other_authority)
    their_appeal = appeal(other_authority, foreign, stranger, D(2024, 5, 1), "tax")
    their_visit = visit(other_authority, foreign, stranger, D(2024, 5, 1))
    with pytest.raises(ValidationError) as excinfo:
        new_issue(authority, officer, appeal_ids=[their_appeal.pk], visit_ids=[their_visit.pk, 987654])
    errors = errors_of(excinfo)
    assert errors["appeals"] == [f"以下诉求不存在或不属于本登记机关：{their_appeal.pk}。"]
    assert errors["visits"] == [f"以下走访记录不存在或不属于本登记机关：{their_visit.pk}、987654。"]


def test_roles_and_authorities(authority, officer, manager, clerk, stranger):
    with pytest.raises(PermissionDenied):
        new_issue(authority, clerk)
    with pytest.raises(PermissionDenied):
        new_issue(authority, manager)  # the manager reads issues; officers log and work them
    with pytest.raises(ValidationError):
        new_issue(authority, stranger, owner=stranger)
    issue = new_issue(authority, officer)
    with pytest.raises(PermissionDenied):
        services.issue_analyse(issue=issue, actor=manager, analysis="分析")
    with pytest.raises(PermissionDenied) as excinfo:
        services.issue_analyse(issue=issue, actor=stranger, analysis="分析")
    assert "不属于您所在的登记机关" in str(excinfo.value)


def test_analysis_is_required(authority, officer):
    issue = new_issue(authority, officer)
    with pytest.raises(ValidationError) as excinfo:
        services.issue_analyse(issue=issue, actor=officer, analysis="  ")
    assert errors_of(excinfo) == {"analysis": ["请填写原因分析。"]}
    issue.refresh_from_db()
    assert issue.state == IssueState.OPEN and issue.analysis == ""


def test_measures_need_an_analysis_and_good_input(authority, other_authority, officer, department):
    issue = new_issue(authority, officer)
    with pytest.raises(TransitionNotAllowed, match="请先完成原因分析"):
        services.measure_add(issue=issue, actor=officer, description="措施", due_on=D(2024, 6, 1))
    issue = services.issue_analyse(issue=issue, actor=officer, analysis="原因")
    foreign = Department.objects.create(authority=other_authority, name="外区部门")
    closed = Department.objects.create(authority=authority, name="已撤销部门", is_active=False)
    with pytest.raises(ValidationError) as excinfo:
        services.measure_add(
            issue=issue, actor=officer, description="", due_on=D(2024, 5, 1), owner_department=foreign.pk
        )
    errors = errors_of(excinfo)
    assert errors["description"] == ["请填写改进措施。"]
    assert errors["due_on"] == ["完成期限不能早于问题发现日期。"]
    assert errors["owner_department"] == ["责任部门不存在或不属于本登记机关。"]
    with pytest.raises(ValidationError) as excinfo:
        services.measure_add(
            issue=issue, actor=officer, description="措施", due_on=None, owner_department=closed
        )
    errors = errors_of(excinfo)
    assert errors["due_on"] == ["请填写完成期限。"]
    assert errors["owner_department"] == ["责任部门“已撤销部门”已停用。"]
    assert not ImprovementMeasure.objects.exists()
    issue.refresh_from_db()
    assert issue.state == IssueState.ANALYSED


def test_resolve_needs_measures_and_the_right_state(authority, officer):
    issue = new_issue(authority, officer)
    with pytest.raises(TransitionNotAllowed, match="不能执行“确认解决”"):
        services.issue_resolve(issue=issue, actor=officer)
    with pytest.raises(TransitionNotAllowed, match="不能执行“重新打开”"):
        services.issue_reopen(issue=issue, actor=officer, reason="原因")
    issue = services.issue_analyse(issue=issue, actor=officer, analysis="原因")
    measure = services.measure_add(issue=issue, actor=officer, description="措施", due_on=D(2024, 6, 1))
    issue.refresh_from_db()
    with pytest.raises(ValidationError) as excinfo:
        services.measure_done(measure=measure, actor=officer, done_on=TODAY + dt.timedelta(days=2))
    assert errors_of(excinfo) == {"done_on": ["完成日期不能晚于今天。"]}
    measure = services.measure_done(measure=measure, actor=officer, done_on=D(2024, 5, 20))
    with pytest.raises(TransitionNotAllowed, match="不能执行“确认完成”"):
        services.measure_done(measure=measure, actor=officer)
    with pytest.raises(ValidationError) as excinfo:
        services.issue_resolve(issue=issue, actor=officer, resolved_on=D(2024, 1, 1))
    assert errors_of(excinfo) == {"resolved_on": ["解决日期不能早于问题发现日期。"]}
    issue = services.issue_resolve(issue=issue, actor=officer)
    assert issue.resolved_on == TODAY
    with pytest.raises(TransitionNotAllowed, match="不能执行“制定改进措施”"):
        services.measure_add(issue=issue, actor=officer, description="再加", due_on=D(2024, 6, 1))
    with pytest.raises(TransitionNotAllowed, match="问题已解决"):
        services.issue_update(
            issue=issue, actor=officer, title="改", category="tax", description="改", owner=officer
        )
    with pytest.raises(ValidationError) as excinfo:
        services.issue_reopen(issue=issue, actor=officer, reason="")
    assert errors_of(excinfo) == {"reason": ["请填写重新打开的原因。"]}


def test_a_stale_page_is_told_someone_was_faster(authority, officer):
    issue = new_issue(authority, officer)
    stale = BusinessIssue.objects.get(pk=issue.pk)
    issue = services.issue_analyse(issue=issue, actor=officer, analysis="原因")
    services.measure_add(issue=issue, actor=officer, description="措施", due_on=D(2024, 6, 1))
    stale.state = IssueState.ANALYSED  # what the second officer's page still shows
    with pytest.raises(TransitionNotAllowed, match="已被他人处理"):
        services.issue_analyse(issue=stale, actor=officer, analysis="另一个分析")


def test_update_changes_fields_and_links(authority, officer, company):
    issue = new_issue(authority, officer)
    a = appeal(authority, company, officer, D(2024, 5, 1), "approval")
    issue = services.issue_update(
        issue=issue, actor=officer, title="新标题", category="tax", description="新描述", owner=officer,
        appeal_ids=[a.pk],
    )  # fmt: skip
    issue.refresh_from_db()
    assert (issue.title, issue.category, issue.description) == ("新标题", "tax", "新描述")
    assert list(issue.appeals.all()) == [a]


# --- pages ------------------------------------------------------------------------------------------------


@pytest.fixture
def issue(authority, officer, department):
    issue = new_issue(authority, officer)
    issue = services.issue_analyse(issue=issue, actor=officer, analysis="原因分析文字")
    services.measure_add(
        issue=issue, actor=officer, description="协调银行开设绿色通道", due_on=D(2024, 6, 30),
        owner_department=department,
    )  # fmt: skip
    issue.refresh_from_db()
    return issue


@pytest.mark.parametrize(
    ("role", "status"), [("officer", 200), ("manager", 200), ("clerk", 403), ("member", 403)]
)
def test_page_permissions(client_for, issue, officer, manager, clerk, department_member, role, status):
    user = {"officer": officer, "manager": manager, "clerk": clerk, "member": department_member}[role]
    client = client_for(user)
    for url in (reverse("tracking:issue_list"), reverse("tracking:issue_detail", args=[issue.pk])):
        assert client.get(url).status_code == status
    new_status = 200 if role == "officer" else 403
    assert client.get(reverse("tracking:issue_new")).status_code == new_status


def test_another_authority_sees_404(client_for, issue, stranger):
    client = client_for(stranger)
    assert client.get(reverse("tracking:issue_detail", args=[issue.pk])).status_code == 404
    assert (
        client.post(reverse("tracking:issue_analyse", args=[issue.pk]), {"analysis": "x"}).status_code == 404
    )
    measure = issue.measures.get()
    assert client.post(reverse("tracking:measure_step", args=[measure.pk, "done"])).status_code == 404
    listing = client.get(reverse("tracking:issue_list"))
    assert listing.status_code == 200 and issue.title not in listing.content.decode()


def test_list_filters_search_and_export(client_for, issue, authority, officer):
    other = new_issue(authority, officer, title="园区停车难", category="infrastructure")
    client = client_for(officer)
    page = client.get(reverse("tracking:issue_list"), {"q": "停车"}).content.decode()
    assert "园区停车难" in page and issue.title not in page
    page = client.get(reverse("tracking:issue_list"), {"state": "improving"}).content.decode()
    assert issue.title in page and other.title not in page
    page = client.get(
        reverse("tracking:issue_list"), {"category": "infrastructure", "owner": "me"}
    ).content.decode()
    assert other.title in page and issue.title not in page
    page = client.get(reverse("tracking:issue_list"), {"overdue": "on"}).content.decode()
    assert issue.title in page and other.title not in page  # its measure was due 30 June 2024
    page = client.get(
        reverse("tracking:issue_list"), {"found_from": "2024-03-05", "found_to": "2024-03-01"}
    ).content.decode()
    assert "起始日期不能晚于截止日期。" in page
    response = client.get(reverse("tracking:issue_list"), {"export": "xlsx", "state": "improving"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("问题", "类别", "状态")
    assert [r[0] for r in rows[1:]] == [issue.title]
    assert rows[1][5:7] == (1, 0)


def test_new_issue_page(client_for, authority, officer, company):
    a = appeal(authority, company, officer, D(2024, 5, 1), "approval")
    client = client_for(officer)
    data = {
        "title": "证照办理材料重复提交",
        "category": "approval",
        "description": "企业反映同一材料在多个窗口重复提交。",
        "owner": officer.pk,
        "found_on": "2024-05-10",
        "appeals": f"{a.number}",
        "visits": "",
    }
    response = client.post(reverse("tracking:issue_new"), {**data, "appeals": "诉209900001"})
    assert response.status_code == 400
    assert "找不到以下诉求编号：诉209900001" in response.content.decode()
    response = client.post(reverse("tracking:issue_new"), {**data, "found_on": "2999-01-01"})
    assert response.status_code == 400 and "发现日期不能晚于今天。" in response.content.decode()
    response = client.post(reverse("tracking:issue_new"), data)
    issue = BusinessIssue.objects.get(title="证照办理材料重复提交")
    assert response.status_code == 302 and response["Location"] == reverse(
        "tracking:issue_detail", args=[issue.pk]
    )
    assert list(issue.appeals.all()) == [a]
    detail = client.get(response["Location"]).content.decode()
    assert a.number in detail and "完成原因分析" in detail


def test_steps_through_the_pages(client_for, authority, officer):
    client = client_for(officer)
    issue = new_issue(authority, officer)
    url = reverse("tracking:issue_analyse", args=[issue.pk])
    response = client.post(url, {"analysis": " "})
    assert response.status_code == 400
    response = client.post(reverse("tracking:issue_step", args=[issue.pk, "resolve"]), {})
    assert response.status_code == 409 and "不能执行“确认解决”" in response.content.decode()
    assert client.post(url, {"analysis": "审批环节多"}).status_code == 302
    add = reverse("tracking:issue_measure_add", args=[issue.pk])
    response = client.post(add, {"description": "合并审批环节", "due_on": "2024-01-01"})
    assert response.status_code == 400 and "完成期限不能早于问题发现日期。" in response.content.decode()
    assert client.post(add, {"description": "合并审批环节", "due_on": "2024-08-01"}).status_code == 302
    measure = issue.measures.get()
    response = client.post(reverse("tracking:issue_step", args=[issue.pk, "resolve"]), {})
    assert response.status_code == 400 and "合并审批环节" in response.content.decode()
    assert client.get(reverse("tracking:measure_step", args=[measure.pk, "start"])).status_code == 200
    assert client.post(reverse("tracking:measure_step", args=[measure.pk, "start"])).status_code == 302
    assert (
        client.post(reverse("tracking:measure_step", args=[measure.pk, "done"]), {"day": ""}).status_code
        == 302
    )
    assert client.post(reverse("tracking:issue_step", args=[issue.pk, "resolve"]), {}).status_code == 302
    issue.refresh_from_db()
    assert issue.state == IssueState.RESOLVED
    page = client.get(reverse("tracking:issue_detail", args=[issue.pk])).content.decode()
    assert "重新打开" in page and 'data-action="measure-' not in page
    assert client.get(reverse("tracking:issue_edit", args=[issue.pk])).status_code == 409
    response = client.post(reverse("tracking:issue_step", args=[issue.pk, "reopen"]), {"reason": ""})
    assert response.status_code == 400
    assert (
        client.post(reverse("tracking:issue_step", args=[issue.pk, "reopen"]), {"reason": "复发"}).status_code
        == 302
    )
    assert client.get(reverse("tracking:issue_step", args=[issue.pk, "delete"])).status_code == 404


def test_manager_reads_but_cannot_act(client_for, issue, manager):
    client = client_for(manager)
    page = client.get(reverse("tracking:issue_detail", args=[issue.pk])).content.decode()
    assert 'data-testid="analysis-form"' not in page and 'data-testid="measure-form"' not in page
    assert (
        client.post(reverse("tracking:issue_analyse", args=[issue.pk]), {"analysis": "x"}).status_code == 403
    )
    assert client.get(reverse("tracking:issue_edit", args=[issue.pk])).status_code == 403
