"""Visit pages: roles (officer and manager see, other roles 403, another authority's visit 404), the form
with the questionnaire (bad input shown on the page: an enterprise that does not exist, an answer of the wrong
type), an officer editing another officer's visit (403), a submitted visit (409), detail and export."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from bizreg.tracking.models import Appeal, MoveOutReason, PlanReason, PlanState, Visit, VisitState
from bizreg.tracking.services import visits as services
from bizreg.tracking.tests.fixtures_visits import *  # noqa: F403
from bizreg.tracking.tests.fixtures_visits import COMPLETE_ANSWERS, make_plan

pytestmark = pytest.mark.django_db


def _visit(authority, enterprise, officer, **fields):
    fields.setdefault("method", "on_site")
    fields.setdefault("visited_on", timezone.localdate() - dt.timedelta(days=1))
    return services.visit_create(authority=authority, enterprise_id=enterprise.pk, actor=officer, **fields)


def _form(today, **extra):
    data = {
        "method": "on_site",
        "visited_on": today.isoformat(),
        "contact_name": "陈经理",
        "contact_phone": "13800138000",
        "findings": "企业经营正常，反映招工难",
        "move_out_reason": "",
    }
    for code, value in COMPLETE_ANSWERS.items():
        data[f"q_{code}"] = value
    data.update(extra)
    return data


@pytest.mark.parametrize(
    ("role", "status"), [("officer", 200), ("manager", 200), ("department_member", 403), ("clerk", 403)]
)
def test_visit_pages_by_role(
    client_for, authority, enterprise, officer, manager, department_member, clerk, role, status
):
    visit = _visit(authority, enterprise, officer)
    user = {"officer": officer, "manager": manager, "department_member": department_member, "clerk": clerk}[
        role
    ]
    client = client_for(user)
    assert client.get(reverse("tracking:visit_list")).status_code == status
    assert client.get(reverse("tracking:visit_detail", args=[visit.pk])).status_code == status


def test_another_authoritys_visit_is_not_found(
    client_for, other_authority, foreign_enterprise, foreign_officer, officer
):
    visit = _visit(other_authority, foreign_enterprise, foreign_officer)
    client = client_for(officer)
    assert client.get(reverse("tracking:visit_detail", args=[visit.pk])).status_code == 404
    assert client.get(reverse("tracking:visit_edit", args=[visit.pk])).status_code == 404
    assert client.post(reverse("tracking:visit_submit", args=[visit.pk])).status_code == 404
    assert (
        client.get(reverse("tracking:visit_new") + f"?enterprise={foreign_enterprise.pk}").status_code == 404
    )


def test_only_officers_open_the_visit_form(client_for, manager, plan):
    assert client_for(manager).get(reverse("tracking:visit_new") + f"?plan={plan.pk}").status_code == 403


def test_an_officer_completes_a_planned_visit_on_the_page(client_for, officer, plan, today):
    client = client_for(officer)
    url = reverse("tracking:visit_new") + f"?plan={plan.pk}"
    page = client.get(url).content.decode()
    assert "职工人数" in page and plan.enterprise.name in page and 'name="q_difficulties"' in page
    response = client.post(url, {**_form(today), "action": "submit"})
    assert response.status_code == 302
    visit = Visit.objects.get(plan=plan)
    assert visit.state == VisitState.SUBMITTED
    assert visit.answers["employees"] == 35 and visit.answers["expand_plan"] is True
    assert visit.answers["difficulties"] == ["用工招工难", "场地租金成本高"]
    plan.refresh_from_db()
    assert plan.state == PlanState.DONE


def test_a_visit_for_an_enterprise_that_does_not_exist_on_the_page(
    client_for, officer, foreign_enterprise, today
):
    client = client_for(officer)
    url = reverse("tracking:visit_new")
    assert 'name="enterprise"' in client.get(url).content.decode()
    for value in ("91440115MA5XXXXX0X", "999999", foreign_enterprise.uscc):
        response = client.post(url, {**_form(today), "enterprise": value, "action": "save"})
        assert response.status_code == 400
        assert "企业不存在或不属于本登记机关" in response.content.decode()
    assert not Visit.objects.exists()


def test_questionnaire_answers_of_the_wrong_type_on_the_page(client_for, officer, enterprise, today):
    url = reverse("tracking:visit_new") + f"?enterprise={enterprise.pk}"
    response = client_for(officer).post(
        url, {**_form(today, q_employees="三十多个", q_revenue_trend="不告诉你"), "action": "save"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "“职工人数”须为整数。" in page
    assert "“近一年营业收入变化”没有“不告诉你”这个选项。" in page
    assert 'data-field="q_employees"' in page
    assert not Visit.objects.exists()


def test_saving_a_draft_then_submitting_it_from_the_detail_page(client_for, officer, enterprise, today):
    client = client_for(officer)
    url = reverse("tracking:visit_new") + f"?enterprise={enterprise.pk}"
    response = client.post(url, {"method": "phone", "visited_on": today.isoformat(), "q_employees": "6"})
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert visit.state == VisitState.DRAFT
    # Submitting the incomplete draft shows what is missing on the form.
    response = client.post(reverse("tracking:visit_submit", args=[visit.pk]))
    assert response.status_code == 400
    page = response.content.decode()
    assert "请回答“近一年营业收入变化”。" in page and "请填写走访发现" in page
    response = client.post(
        reverse("tracking:visit_edit", args=[visit.pk]), {**_form(today), "action": "save"}
    )
    assert response.status_code == 302
    assert client.post(reverse("tracking:visit_submit", args=[visit.pk])).status_code == 302
    visit.refresh_from_db()
    assert visit.state == VisitState.SUBMITTED


def test_an_officer_editing_another_officers_visit_on_the_page(
    client_for, authority, enterprise, officer, other_officer, manager, today
):
    visit = _visit(authority, enterprise, officer)
    client = client_for(other_officer)
    url = reverse("tracking:visit_edit", args=[visit.pk])
    response = client.get(url)
    assert response.status_code == 403
    response = client.post(url, {**_form(today), "action": "save"})
    assert response.status_code == 403
    assert client.post(reverse("tracking:visit_submit", args=[visit.pk])).status_code == 403
    assert client_for(manager).get(url).status_code == 403
    # The other officer still sees the visit, without the edit buttons.
    page = client.get(reverse("tracking:visit_detail", args=[visit.pk])).content.decode()
    assert "visit-edit" not in page
    visit.refresh_from_db()
    assert visit.contact_name == ""


def test_a_submitted_visit_is_read_only(client_for, authority, enterprise, officer, today):
    visit = _visit(authority, enterprise, officer, answers=COMPLETE_ANSWERS, findings="正常")
    services.visit_submit(visit=visit, actor=officer)
    client = client_for(officer)
    assert client.get(reverse("tracking:visit_edit", args=[visit.pk])).status_code == 409
    assert client.post(reverse("tracking:visit_edit", args=[visit.pk]), _form(today)).status_code == 409
    assert client.post(reverse("tracking:visit_submit", args=[visit.pk])).status_code == 409


def test_move_out_plan_form_requires_the_reason(client_for, enterprise, officer, today):
    plan = make_plan(enterprise, reason=PlanReason.MOVE_OUT, officer=officer)
    url = reverse("tracking:visit_new") + f"?plan={plan.pk}"
    client = client_for(officer)
    assert "拟迁出原因 *" in client.get(url).content.decode()
    response = client.post(url, {**_form(today), "action": "submit"})
    assert response.status_code == 400
    assert "拟迁出企业的走访须填写拟迁出原因。" in response.content.decode()
    assert not Visit.objects.exists()  # the draft is not kept when the submit fails
    assert client.post(url, {**_form(today, move_out_reason="cost"), "action": "submit"}).status_code == 302


def test_detail_shows_answers_with_question_text_and_the_appeals(
    client_for, authority, enterprise, officer, today
):
    visit = _visit(
        authority,
        enterprise,
        officer,
        answers={"employees": "12", "move_out_plan": "是"},
        contact_phone="13912345678",
    )
    Appeal.objects.create(
        authority=authority,
        number=f"诉{today.year}00001",
        enterprise=enterprise,
        visit=visit,
        category="labour",
        title="招工补贴咨询",
        description="询问招工补贴",
        contact_name="陈经理",
        contact_phone="13912345678",
        raised_on=today,
        raised_by=officer,
    )
    page = client_for(officer).get(reverse("tracking:visit_detail", args=[visit.pk])).content.decode()
    assert "职工人数" in page and ">12<" in page
    assert "是否有迁出本区的打算" in page
    assert "招工补贴咨询" in page
    assert f'href="/tracking/appeals/new/?visit={visit.pk}"' in page
    assert "139****5678" in page and "13912345678" not in page


def test_visit_list_filters_and_export(client_for, authority, enterprise, officer, other_officer, manager):
    mine = _visit(
        authority,
        enterprise,
        officer,
        contact_name="陈大文",
        contact_phone="13800138000",
        move_out_reason=MoveOutReason.COST,
    )
    _visit(authority, enterprise, other_officer, method="phone")
    client = client_for(officer)

    def rows(query):
        return (
            client.get(reverse("tracking:visit_list") + query)
            .content.decode()
            .count('data-testid="visit-row"')
        )

    assert rows("") == 2
    assert rows("?officer=me") == 1
    assert rows("?method=phone") == 1
    assert rows(f"?q={mine.number}") == 1
    assert rows("?reason=none") == 2
    assert rows("?state=submitted") == 0
    reversed_range = client.get(
        reverse("tracking:visit_list"), {"visited_from": "2026-03-05", "visited_to": "2026-03-01"}
    )
    assert "起始日期不能晚于截止日期。" in reversed_range.content.decode()
    bad_date = client.get(reverse("tracking:visit_list"), {"visited_from": "2026-13-01"})
    assert "请输入有效日期（YYYY-MM-DD）。" in bad_date.content.decode()
    response = client_for(manager).get(reverse("tracking:visit_list") + "?officer=me&export=xlsx")
    assert response.status_code == 200
    response = client.get(reverse("tracking:visit_list") + "?officer=me&export=xlsx")
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    header, row = list(sheet.iter_rows(values_only=True))[:2]
    assert header[0] == "走访编号" and row[0] == mine.number
    assert row[6] == "陈*文" and row[7] == "138****8000"
    assert header[10] == "拟迁出原因" and row[10] == "经营成本（租金、人力）"
    detail = client.get(reverse("tracking:visit_detail", args=[mine.pk])).content.decode()
    assert 'data-testid="move-out-reason">经营成本（租金、人力）<' in detail
