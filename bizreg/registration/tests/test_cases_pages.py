"""The case pages as a clerk, a manager and others use them: list, export, intake form, detail with its
action buttons, steps through the page (409 page on refusal), timeline, due warnings, extensions."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from bizreg.accounts.roles import ROLE_BY_CODE
from bizreg.core.models import AccessLog, BackgroundJob
from bizreg.enterprises import services as enterprise_services
from bizreg.enterprises.models import EnterpriseStatus
from bizreg.registration.models import CaseState, CaseTransitionLog, RegistrationCase
from bizreg.registration.selectors import cases as case_selectors
from bizreg.registration.services import cases as services
from bizreg.registration.tests.cases_fixtures import *  # noqa: F403 — fixtures
from bizreg.registration.tests.cases_fixtures import APPLICANT_ID, at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]


def body(response) -> str:
    return response.content.decode()


# --- list -------------------------------------------------------------------------------------------------


def test_list_masks_applicants_and_filters(client_for, clerk, intake, enterprise):
    entry = enterprise(name="广州南沙筛选测试有限公司")
    change = intake("change", enterprise_uscc=entry.uscc, applicant_name="欧阳小明")
    establishment = intake("establishment", enterprise_name="广州南沙另一家有限公司")
    client = client_for(clerk)
    page = body(client.get("/registration/cases/"))
    assert change.number in page and establishment.number in page
    assert "欧**明" in page and "欧阳小明" not in page
    assert APPLICANT_ID not in page
    only_change = body(client.get("/registration/cases/", {"case_type": "change"}))
    assert change.number in only_change and establishment.number not in only_change
    by_uscc = body(client.get("/registration/cases/", {"q": entry.uscc}))
    assert change.number in by_uscc and establishment.number not in by_uscc
    by_number = body(client.get("/registration/cases/", {"q": establishment.number[:-2]}))
    assert establishment.number in by_number
    by_name = body(client.get("/registration/cases/", {"q": "另一家"}))
    assert establishment.number in by_name and change.number not in by_name
    by_applicant = body(client.get("/registration/cases/", {"q": "欧阳小明"}))
    assert change.number in by_applicant and establishment.number not in by_applicant


def test_the_receiver_filter_offers_the_window_staff(client_for, clerk, second_clerk, intake, make_user):
    """收件人 lists who may receive cases and anyone who did (a clerk since moved to the archive), not the
    whole authority, each once (the clerk holds the right through two roles); choosing one lists that
    person's cases."""
    second_role = Group.objects.create(name="窗口（兼）")
    second_role.permissions.add(
        Permission.objects.get(codename="add_registrationcase", content_type__app_label="registration")
    )
    clerk.groups.add(second_role)
    moved = make_user("registration_clerk", display_name="原窗口人员")
    theirs = intake(actor=moved)
    moved.groups.set([])
    moved.groups.add(Group.objects.get(name=ROLE_BY_CODE["archivist"].name))
    make_user("archivist", display_name="档案室人员")
    make_user("hotline_agent", display_name="咨询坐席人员")
    mine = intake()
    page = client_for(clerk).get("/registration/cases/")
    offered = list(page.context["filterset"].form.fields["received_by"].queryset)
    assert sorted(offered, key=lambda user: user.pk) == sorted(
        [clerk, second_clerk, moved], key=lambda user: user.pk
    )
    listed = body(client_for(clerk).get("/registration/cases/", {"received_by": moved.pk}))
    assert theirs.number in listed and mine.number not in listed


def test_list_date_range_sort_and_bad_filters(client_for, clerk, intake, freeze):
    freeze(at(dt.date(2025, 3, 3), 10))
    early = intake()
    freeze(at(dt.date(2025, 3, 5), 10))
    late = intake()
    client = client_for(clerk)
    ranged = body(
        client.get("/registration/cases/", {"received_from": "2025-03-04", "received_to": "2025-03-05"})
    )
    assert late.number in ranged and early.number not in ranged
    oldest_first = body(client.get("/registration/cases/", {"sort": "received_at"}))
    assert oldest_first.index(early.number) < oldest_first.index(late.number)
    response = client.get(
        "/registration/cases/", {"received_from": "2025-02-30", "state": "bogus", "sort": "x"}
    )
    assert response.status_code == 200
    assert "以下筛选条件无效" in body(response)
    assert early.number in body(response)


def test_list_shows_the_due_warning(client_for, clerk, intake, step, freeze):
    freeze(at(dt.date(2025, 3, 3), 10))
    case = step(step(intake(), "pass_pre_review"), "accept")  # due 2025-03-06
    freeze(at(dt.date(2025, 3, 7), 9))
    page = body(client_for(clerk).get("/registration/cases/"))
    assert "已超期 1 件" in page
    assert 'data-testid="due-badge"' in page
    overdue = body(client_for(clerk).get("/registration/cases/", {"due": "overdue"}))
    assert case.number in overdue


def test_htmx_list_request_gets_the_results_fragment(client_for, clerk, intake):
    intake()
    response = client_for(clerk).get("/registration/cases/", HTTP_HX_REQUEST="true")
    assert "<html" not in body(response)
    assert 'data-testid="case-table"' in body(response)


def _count(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries)


# Session (read, and the save in a savepoint: 3), user, permissions (1), authorities, capped count, the
# calendar of the due horizon (overrides and manual years at once), page rows (receiver in the same
# query), the due-warning aggregate, the receivers filter's choices, the layout's authority names and roles.
LIST_PAGE_QUERIES = 14


def test_list_query_count_does_not_grow_with_rows(client_for, clerk, intake, second_clerk):
    client = client_for(clerk)
    for _ in range(3):
        intake()
    few = _count(client, "/registration/cases/", {"q": "测试", "state": "received"})
    for _ in range(20):
        intake(actor=second_clerk)
    many = _count(client, "/registration/cases/", {"q": "测试", "state": "received"})
    assert few == many <= LIST_PAGE_QUERIES


def test_export_is_masked_and_filtered(client_for, clerk, intake):
    case = intake(agent_name="李代理人", agent_id_number=APPLICANT_ID, agent_phone="13900001111")
    other = intake("establishment", enterprise_name="不导出的企业有限公司")
    response = client_for(clerk).get("/registration/cases/export/", {"q": case.enterprise_name})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("业务编号", "业务类型", "办理渠道")
    assert [r[0] for r in rows[1:]] == [case.number]
    row = rows[1]
    assert row[6] == "王*明"
    assert row[7] == APPLICANT_ID[:4] + "*" * 10 + APPLICANT_ID[-4:]
    assert row[8] == "138****8000"
    assert row[9] == "李**人"
    assert other.number not in str(rows)


def test_a_large_export_is_made_in_the_background_with_the_same_rows(
    client_for, clerk, intake, settings, celery_eager, django_capture_on_commit_callbacks, monkeypatch
):
    cases = [intake(enterprise_name=f"后台导出测试{n}有限公司") for n in range(3)]
    query = {"q": "后台导出测试"}
    at_once = client_for(clerk).get("/registration/cases/export/", query)
    expected = list(load_workbook(io.BytesIO(b"".join(at_once.streaming_content))).active.values)

    settings.EXPORT_INLINE_MAX_ROWS = 2
    with django_capture_on_commit_callbacks(execute=True):
        queued = client_for(clerk).get("/registration/cases/export/", query, follow=True)
    page = queued.content.decode()
    assert queued.redirect_chain[-1][0].startswith("/jobs/") and "共 3 条，已转入后台生成 Excel" in page
    assert "Excel 导出 · 登记业务" in page and 'href="/registration/cases/?q=' in page  # back to the list
    job = BackgroundJob.objects.get(kind="core.export")
    assert job.status == BackgroundJob.Status.SUCCEEDED and job.created_by == clerk
    download = client_for(clerk).get(f"/jobs/{job.pk}/download/")
    rows = list(load_workbook(io.BytesIO(b"".join(download.streaming_content))).active.values)
    # The same masked rows as the file sent at once.
    assert rows == expected and sorted(r[0] for r in rows[1:]) == sorted(c.number for c in cases)

    # Over the list's own limit: refused on the list, no job.
    monkeypatch.setattr(case_selectors, "EXPORT_MAX_ROWS", 2)
    refused = client_for(clerk).get("/registration/cases/export/", query, follow=True)
    assert "导出结果超过 2 条" in refused.content.decode()
    assert BackgroundJob.objects.filter(kind="core.export").count() == 1


# --- intake form ------------------------------------------------------------------------------------------


def test_intake_form_creates_the_case(client_for, clerk, street, freeze):
    freeze(at(dt.date(2025, 3, 4), 9))
    client = client_for(clerk)
    assert client.get("/registration/cases/new/").status_code == 200
    data = {
        "case_type": "establishment",
        "channel": "window",
        "enterprise_name": "广州南沙表单测试有限公司",
        "applicant_name": "王小明",
        "applicant_id_number": APPLICANT_ID,
        "applicant_phone": "13800138000",
        "rc_entity_type": "llc",
        "rc_legal_rep_name": "陈大文",
        "rc_legal_rep_id_number": APPLICANT_ID,
        "rc_registered_capital": "50",
        "rc_industry": "F",
        "rc_street": street.pk,
        "rc_address": "广州市南沙区黄阁大道 8 号",
    }
    response = client.post("/registration/cases/new/", data)
    case = RegistrationCase.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/registration/cases/{case.pk}/"
    assert case.requested_changes["registered_capital"] == "500000.00"
    assert case.number == "4401152025030400001"


def test_intake_form_shows_field_errors_in_chinese(client_for, clerk):
    response = client_for(clerk).post(
        "/registration/cases/new/",
        {
            "case_type": "establishment",
            "channel": "window",
            "applicant_name": "王小明",
            "applicant_id_number": "123",
            "applicant_phone": "12345",
        },
    )
    assert response.status_code == 400
    page = body(response)
    assert 'data-testid="error-applicant_id_number"' in page and "应为 18 位" in page
    assert 'data-testid="error-applicant_phone"' in page and "手机号码" in page
    assert 'data-testid="error-enterprise_name"' in page
    assert not RegistrationCase.objects.exists()


def test_intake_form_names_every_problem_when_it_refuses_a_field_itself(client_for, clerk):
    """A capital the form itself refuses (negative) does not hide the service's checks: the malformed ID and
    phone, the missing name and the agent's half-filled details come back in the same answer."""
    response = client_for(clerk).post(
        "/registration/cases/new/",
        {
            "case_type": "establishment",
            "channel": "window",
            "applicant_name": "王小明",
            "applicant_id_number": "123456789012345678",
            "applicant_phone": "1380013",
            "agent_id_number": "440115",
            "rc_registered_capital": "-5",
        },
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) >= {
        "rc_registered_capital",
        "applicant_id_number",
        "applicant_phone",
        "agent_id_number",
        "enterprise_name",
    }
    # The refused capital keeps the form's own message only, not also the service's "missing".
    assert len(errors["rc_registered_capital"]) == 1
    assert "0" in errors["rc_registered_capital"][0]
    assert not RegistrationCase.objects.exists()


def test_intake_form_shows_the_lock_reason(client_for, clerk, enterprise, role_users):
    entry = enterprise()
    enterprise_services.enterprise_lock(
        enterprise=entry, actor=role_users["investigator"], reason="涉嫌虚假登记"
    )
    response = client_for(clerk).post(
        "/registration/cases/new/",
        {
            "case_type": "deregistration",
            "channel": "window",
            "enterprise_uscc": entry.uscc,
            "applicant_name": "王小明",
            "applicant_id_number": APPLICANT_ID,
            "applicant_phone": "13800138000",
        },
    )
    assert response.status_code == 400
    assert 'data-testid="error-enterprise_uscc"' in body(response)
    assert "涉嫌虚假登记" in body(response)


def test_enterprise_lookup(client_for, clerk, enterprise, other_authority):
    from bizreg.testing.factories import EnterpriseFactory

    entry = enterprise(name="广州南沙查找测试有限公司")
    EnterpriseFactory(authority=other_authority, name="天河查找测试有限公司")
    page = body(client_for(clerk).get("/registration/cases/enterprise-lookup/", {"q": "查找测试"}))
    assert entry.uscc in page and "天河查找测试" not in page
    assert "没有找到" in body(
        client_for(clerk).get("/registration/cases/enterprise-lookup/", {"q": "不存在的"})
    )


def test_enterprise_lookup_offers_only_what_the_case_type_can_be_received_for(client_for, clerk, enterprise):
    closed, revoked, active = (enterprise(name=f"广州南沙状态{n}号有限公司") for n in range(3))
    for entry, status in ((closed, EnterpriseStatus.DEREGISTERED), (revoked, EnterpriseStatus.REVOKED)):
        enterprise_services.enterprise_update(enterprise=entry, actor=clerk, status=status)
    client = client_for(clerk)

    def offered(case_type: str) -> tuple[list[str], list[str]]:
        query = {"q": "南沙状态", "case_type": case_type}
        page = body(client.get("/registration/cases/enterprise-lookup/", query))
        buttons = re.findall(r"<button[^>]*>", page)
        can = [b for b in buttons if "data-uscc" in b]
        cannot = [b for b in buttons if "disabled" in b]
        return [re.search(r'data-uscc="(\w+)"', b).group(1) for b in can], cannot

    can, cannot = offered("change")
    assert can == [active.uscc] and len(cannot) == 2 and "登记状态为“注销”" in "".join(cannot)
    can, cannot = offered("deregistration")  # a revoked enterprise still has to be deregistered
    assert set(can) == {active.uscc, revoked.uscc} and len(cannot) == 1
    page = body(client.get("/registration/cases/enterprise-lookup/", {"q": "南沙状态"}))
    assert page.index(active.uscc) < page.index(closed.uscc)  # what can be taken comes first


# --- detail and steps ------------------------------------------------------------------------------------


def test_detail_offers_the_steps_of_the_role(client_for, clerk, role_users, intake):
    case = intake()
    page = body(client_for(clerk).get(f"/registration/cases/{case.pk}/"))
    assert 'data-action="pass_pre_review"' in page
    assert 'data-action="return_for_correction"' in page
    assert 'data-action="withdraw"' in page
    assert 'data-action="accept"' not in page
    assert "王*明" in page and APPLICANT_ID not in page
    hotline = body(client_for(role_users["hotline_agent"]).get(f"/registration/cases/{case.pk}/"))
    assert "data-action=" not in hotline
    assert 'data-testid="reveal"' not in hotline


def test_reveal_shows_full_personal_data_and_logs_it(client_for, clerk, intake):
    case = intake()
    response = client_for(clerk).post(f"/registration/cases/{case.pk}/reveal/")
    assert response.status_code == 200
    assert APPLICANT_ID in body(response) and "王小明" in body(response)
    log = AccessLog.objects.get()
    assert (log.user, log.object_id, log.action) == (clerk, str(case.pk), "view")
    assert "applicant_id_number" in log.fields


def test_page_step_with_missing_materials_answers_409_with_the_list(client_for, clerk, intake):
    case = intake(materials=["application"])
    response = client_for(clerk).post(f"/registration/cases/{case.pk}/action/pass_pre_review/")
    assert response.status_code == 409
    assert "公司章程" in body(response) and "业务未作任何改动" in body(response)
    case.refresh_from_db()
    assert case.state == CaseState.RECEIVED


def test_page_steps_through_to_acceptance(client_for, clerk, intake):
    case = intake()
    client = client_for(clerk)
    response = client.post(f"/registration/cases/{case.pk}/action/pass_pre_review/")
    assert response.status_code == 302
    response = client.post(f"/registration/cases/{case.pk}/action/accept/")
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.ACCEPTED
    # the same click again: the state no longer allows it
    response = client.post(f"/registration/cases/{case.pk}/action/accept/")
    assert response.status_code == 409
    assert "当前状态为“已受理”" in body(response)


def test_page_return_for_correction_form(client_for, clerk, intake):
    case = intake(materials=["application"])
    client = client_for(clerk)
    form_page = body(client.get(f"/registration/cases/{case.pk}/action/return_for_correction/"))
    assert "公司章程" in form_page and "checked" in form_page
    articles = case.materials.get(requirement__code="articles").requirement_id
    response = client.post(
        f"/registration/cases/{case.pk}/action/return_for_correction/",
        {"deficient_materials": [articles], "other_deficiencies": "申请书未签字\n\n住所证明过期"},
    )
    assert response.status_code == 302
    assert list(case.deficiencies.values_list("description", flat=True)) == [
        "请补交或更正：公司章程",
        "申请书未签字",
        "住所证明过期",
    ]
    # The resubmission page lists what the 一次性告知 asked for, to check the corrected materials against.
    resubmit_page = client.get(f"/registration/cases/{case.pk}/action/resubmit/")
    listed = re.search(r'data-testid="open-deficiencies".*?</div>', body(resubmit_page), re.S).group(0)
    assert re.findall(r"<li>(.*?)</li>", listed) == ["请补交或更正：公司章程", "申请书未签字", "住所证明过期"]
    empty = intake()
    response = client.post(
        f"/registration/cases/{empty.pk}/action/return_for_correction/", {"other_deficiencies": ""}
    )
    assert response.status_code == 400
    assert "至少一项" in body(response)


def test_page_rejection_needs_a_reason(client_for, clerk, intake, step):
    case = step(step(intake(), "pass_pre_review"), "accept")
    client = client_for(clerk)
    response = client.post(f"/registration/cases/{case.pk}/action/reject/", {"reason": ""})
    assert response.status_code == 400
    assert "请填写理由/说明" in body(response)
    case.refresh_from_db()
    assert case.state == CaseState.ACCEPTED


def test_unknown_page_step_is_404(client_for, clerk, intake):
    case = intake()
    assert client_for(clerk).get(f"/registration/cases/{case.pk}/action/teleport/").status_code == 404


def test_materials_checklist_is_saved_from_the_detail_page(client_for, clerk, intake, step):
    case = intake(materials=[])
    every = list(case.materials.values_list("requirement_id", flat=True))
    client = client_for(clerk)
    assert client.post(f"/registration/cases/{case.pk}/materials/", {"received": every}).status_code == 302
    assert not case.materials.filter(received=False).exists()
    step(case, "pass_pre_review")
    response = client.post(f"/registration/cases/{case.pk}/materials/", {"received": []})
    assert response.status_code == 409
    assert not case.materials.filter(received=False).exists()


def test_timeline_shows_every_step_notice_and_the_clock(
    client_for, clerk, intake, step, freeze, licence_stock
):
    licence_stock(2)
    freeze(at(dt.date(2025, 9, 26), 9))
    case = step(intake(materials=["application"]), "return_for_correction", deficiencies=["补交章程"])
    freeze(at(dt.date(2025, 9, 29), 9))
    every = list(case.materials.values_list("requirement_id", flat=True))
    case = step(case, "resubmit", materials=every)
    case = step(step(case, "pass_pre_review"), "accept")
    freeze(at(dt.date(2025, 10, 9), 9))
    case = step(step(case, "approve"), "issue_licence")
    page = body(client_for(clerk).get(f"/registration/cases/{case.pk}/timeline/"))
    for text in (
        "收件",
        "退回补正（一次性告知）",
        "补正后重新提交",
        "受理",
        "核准",
        "发照",
        "签发一次性告知书",
        "签发受理通知书",
        "打印营业执照正本",
        "打印营业执照副本",
    ):
        assert text in page, text
    assert 'data-testid="days-used">2<' in page  # 9-30 and 10-9
    assert 'data-testid="days-allowed">3<' in page
    assert "2025-09-26 — 2025-09-29" in page


def test_due_page_lists_the_three_groups(client_for, clerk, intake, step, freeze):
    freeze(at(dt.date(2025, 3, 3), 10))
    case = step(step(intake(), "pass_pre_review"), "accept")
    freeze(at(dt.date(2025, 3, 6), 8))
    page = body(client_for(clerk).get("/registration/cases/due/"))
    today_block = page[page.index('data-testid="due-due_today"') :]
    assert case.number in today_block[: today_block.index("</table>")]


def test_extension_request_and_approval_through_the_pages(client_for, clerk, manager, intake, step, freeze):
    freeze(at(dt.date(2025, 3, 3), 10))
    case = step(step(intake(), "pass_pre_review"), "accept")
    response = client_for(clerk).post(
        f"/registration/cases/{case.pk}/extension/", {"reason": "需核实股东身份"}
    )
    assert response.status_code == 302
    queue = body(client_for(manager).get("/registration/extensions/"))
    assert case.number in queue and "需核实股东身份" in queue
    extension = case.extension
    # The case page takes the head to the request in the queue; the clerk, who may not decide, gets no link.
    decide_link = f'/registration/extensions/#extension-{extension.pk}" data-testid="decide-extension"'
    assert decide_link in body(client_for(manager).get(f"/registration/cases/{case.pk}/"))
    assert 'data-testid="decide-extension"' not in body(
        client_for(clerk).get(f"/registration/cases/{case.pk}/")
    )
    assert f'id="extension-{extension.pk}"' in queue
    bad = client_for(manager).post(f"/registration/extensions/{extension.pk}/decide/", {"decision": "refuse"})
    assert bad.status_code == 400 and "理由" in body(bad)
    ok = client_for(manager).post(f"/registration/extensions/{extension.pk}/decide/", {"decision": "approve"})
    assert ok.status_code == 302
    case.refresh_from_db()
    assert (case.extended, case.due_on) == (True, dt.date(2025, 3, 11))
    assert CaseTransitionLog.objects.filter(case=case, action="approve_extension").exists()
    again = client_for(clerk).post(f"/registration/cases/{case.pk}/extension/", {"reason": "再延"})
    assert again.status_code == 409


def test_extension_history_filters_pages_and_exports(client_for, clerk, manager, intake, step, freeze):
    from bizreg.registration.services import cases as case_services

    freeze(at(dt.date(2025, 3, 3), 10))
    decided = {}
    for n, approve in enumerate((True, False, True)):
        case = step(step(intake(enterprise_name=f"广州南沙延期{n}号有限公司"), "pass_pre_review"), "accept")
        freeze(at(dt.date(2025, 3, 4 + n), 11))
        extension = case_services.case_extension_request(case=case, actor=clerk, reason=f"需核实事项{n}")
        case_services.case_extension_decide(
            extension=extension, actor=manager, approve=approve, reason="" if approve else "可在期限内办结"
        )
        decided[n] = case
    client = client_for(manager)

    def listed(query: str = "") -> list[str]:
        response = client.get(f"/registration/extensions/{query}")
        assert response.status_code == 200
        return [e.case.number for e in response.context["decided"]]

    assert listed() == [decided[2].number, decided[1].number, decided[0].number]  # latest decision first
    assert listed("?status=refused") == [decided[1].number]
    assert listed("?date_from=2025-03-05&date_to=2025-03-05") == [decided[1].number]
    assert listed("?q=延期2号") == [decided[2].number]
    assert listed(f"?q={decided[0].number}") == [decided[0].number]
    page = body(client.get("/registration/extensions/"))
    assert f'href="/registration/cases/{decided[1].pk}/"' in page and "未批准" in page
    assert "可在期限内办结" in page  # the head's reason for the refusal
    bad = client.get("/registration/extensions/?status=maybe&date_from=2025-13-01")
    assert bad.status_code == 200 and len(bad.context["decided"]) == 3
    assert "审批结果“maybe”无效" in body(bad) and "请输入有效日期" in body(bad)
    response = client.get("/registration/extensions/export/?status=approved")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("业务编号", "业务类型", "企业名称")
    # Approved without a comment: the request's reason is not repeated as the head's comment.
    assert {r[10] for r in rows[1:]} <= {None, ""}
    assert sorted((r[0], r[4], r[7]) for r in rows[1:]) == sorted(
        [(decided[0].number, "需核实事项0", "已批准"), (decided[2].number, "需核实事项2", "已批准")]
    )
    refusals = client.get("/registration/extensions/export/?status=refused")
    sheet = load_workbook(io.BytesIO(b"".join(refusals.streaming_content)), read_only=True).worksheets[0]
    assert [r[10] for r in list(sheet.iter_rows(values_only=True))[1:]] == ["可在期限内办结"]
    refused = client.get("/registration/extensions/export/?date_from=bad", follow=True)
    assert "筛选条件无效" in body(refused)


def test_home_shows_the_due_figures_and_pending_extensions(
    client_for, clerk, manager, role_users, intake, step, freeze
):
    freeze(at(dt.date(2025, 3, 3), 10))
    step(step(intake(), "pass_pre_review"), "accept")  # due 2025-03-06
    freeze(at(dt.date(2025, 3, 5), 10))
    asking = step(step(intake(), "pass_pre_review"), "accept")  # due 2025-03-10
    services.case_extension_request(case=asking, actor=clerk, reason="需核实")
    freeze(at(dt.date(2025, 3, 7), 9))
    page = body(client_for(clerk).get("/"))
    assert 'data-figure="cases_overdue">1' in page
    assert 'data-figure="cases_due_soon">1' in page
    assert 'data-figure="extensions_pending"' not in page
    managers = body(client_for(manager).get("/"))
    assert 'data-figure="extensions_pending">1' in managers
    assert 'data-figure="cases_overdue"' not in body(client_for(role_users["hotline_agent"]).get("/"))


# --- tenancy ------------------------------------------------------------------------------------------------


def test_another_authoritys_case_does_not_exist_for_the_user(client_for, intake, make_user, other_authority):
    case = intake()
    outsider = make_user("registration_clerk", authorities=[other_authority])
    client = client_for(outsider)
    for url in (
        f"/registration/cases/{case.pk}/",
        f"/registration/cases/{case.pk}/timeline/",
        f"/registration/cases/{case.pk}/action/pass_pre_review/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/registration/cases/{case.pk}/reveal/").status_code == 404
    assert client.post(f"/registration/cases/{case.pk}/action/withdraw/").status_code == 404
    assert f">{case.number}</a>" not in body(client.get("/registration/cases/"))
    assert f">{case.number}</a>" not in body(client.get("/registration/cases/", {"q": case.number}))
    case.refresh_from_db()
    assert case.state == CaseState.RECEIVED
    assert not AccessLog.objects.exists()
    assert services.case_working_days(case) is None


def test_admin_edits_the_checklist_and_only_shows_cases(client, intake, db):
    from bizreg.testing.factories import UserFactory

    admin_user = UserFactory(username="root", is_staff=True, is_superuser=True)
    case = intake()
    client.force_login(admin_user, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get("/admin/registration/materialrequirement/").status_code == 200
    listing = client.get("/admin/registration/registrationcase/")
    assert listing.status_code == 200 and case.number in body(listing)
    detail = body(client.get(f"/admin/registration/registrationcase/{case.pk}/change/"))
    assert APPLICANT_ID not in detail
    assert client.get("/admin/registration/registrationcase/add/").status_code == 403
