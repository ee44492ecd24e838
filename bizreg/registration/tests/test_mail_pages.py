"""Mail pages and API: the role matrix, list filters and pages, the package page with its hand-overs,
bad input through the forms, the Excel export, tenancy."""

# ruff: noqa: F811 — the shared fixtures are imported from docs_fixtures and requested by name

from __future__ import annotations

import io
import json

import pytest
from django.utils import translation
from openpyxl import load_workbook

from bizreg.accounts.roles import ROLES
from bizreg.core import jobs
from bizreg.core.models import BackgroundJob
from bizreg.registration.models import CaseState, LicenceKind, MailHandover, MailPackage
from bizreg.registration.services import licences, mail
from bizreg.registration.tests.docs_fixtures import (  # noqa: F401
    clerk,
    make_case,
    manager,
    private_media,
    receive,
)

pytestmark = pytest.mark.django_db

ALL = {role.code for role in ROLES}
READERS = {"registration_clerk", "manager"}
CLERK = {"registration_clerk"}


def package_for(authority, actor, n: int, **overrides):
    data = {
        "authority": authority,
        "actor": actor,
        "courier": "sf",
        "tracking_number": f"SF{n:013d}",
        "enterprise_name": f"广州南沙邮件{n}有限公司",
        "documents": "申请书\n章程",
    }
    data.update(overrides)
    return mail.mail_receive(**data)


def licensed_case(authority, clerk, manager):
    receive(authority, manager, kind=LicenceKind.ORIGINAL, count=1)
    case = make_case(authority)
    licences.licence_print(case=case, kind=LicenceKind.ORIGINAL, actor=clerk)
    case.state = CaseState.LICENSED
    case.save()
    return case


@pytest.mark.parametrize(
    ("method", "url", "allowed", "ok", "data"),
    [
        ("get", "/registration/mail/", READERS, 200, None),
        ("get", "/registration/mail/export/", READERS, 200, None),
        ("get", "/registration/mail/{package}/", READERS, 200, None),
        ("get", "/registration/mail/new/", CLERK, 200, None),
        (
            "post",
            "/registration/mail/new/",
            CLERK,
            302,
            {"courier": "yto", "tracking_number": "YT{n13}", "enterprise_name": "甲", "documents": "申请书"},
        ),
        (
            "post",
            "/registration/mail/{package}/handover/",
            CLERK,
            302,
            {"to_user": "{colleague}", "purpose": "移交预审/受理"},
        ),
        ("post", "/registration/mail/{package}/link-case/", CLERK, 302, {"case_number": "{case_number}"}),
        ("get", "/registration/cases/{licensed}/mail-out/", CLERK, 200, None),
        (
            "post",
            "/registration/cases/{licensed}/mail-out/",
            CLERK,
            302,
            {"courier": "ems", "tracking_number": "{n13}", "address": "南沙区某路 1 号"},
        ),
        ("get", "/api/mail-packages/", READERS, 200, None),
        ("get", "/api/mail-packages/{package}/", READERS, 200, None),
        (
            "post",
            "/api/mail-packages/",
            CLERK,
            201,
            {"courier": "sto", "tracking_number": "77{n13}", "enterprise_name": "乙", "documents": "申请书"},
        ),
        (
            "post",
            "/api/mail-packages/{package}/handover/",
            CLERK,
            201,
            {"to_user": "{colleague}", "purpose": "移交档案管理"},
        ),
        ("post", "/api/mail-packages/{package}/link-case/", CLERK, 200, {"case_number": "{case_number}"}),
    ],
)
def test_permission_matrix(
    method, url, allowed, ok, data, role_users, client_for, authority, clerk, manager, make_user
):
    colleague = make_user("registration_clerk")
    outcomes = {}
    for index, role in enumerate(sorted(ALL)):
        package = package_for(authority, clerk, 1000 + index)
        names = {
            "package": package.pk,
            "colleague": colleague.pk,
            "case_number": make_case(authority).number,
            "licensed": licensed_case(authority, clerk, manager).pk,
            "n13": f"{5_000_000_000_000 + index}",
        }
        client = client_for(role_users[role])
        target = url.format(**names)
        if data is None:
            response = getattr(client, method)(target)
        else:
            body = {k: str(v).format(**names) for k, v in data.items()}
            if target.startswith("/api/"):
                response = client.post(target, json.dumps(body), content_type="application/json")
            else:
                response = client.post(target, body)
        outcomes[role] = response.status_code
    assert outcomes == {role: ok if role in allowed else 403 for role in ALL}


def test_list_filters_search_and_pages(client_for, clerk, authority):
    case = make_case(authority)
    for n in range(55):
        package_for(authority, clerk, n, case=case if n == 7 else None, courier="sf")
    package_for(
        authority,
        clerk,
        99,
        courier="ems",
        tracking_number="EA123456789CN",
        enterprise_name="广州南沙邮政快件公司",
    )
    client = client_for(clerk)
    first = client.get("/registration/mail/").content.decode()
    assert "共 56 件" in first and first.count('data-testid="mail-link"') == 50
    second = client.get("/registration/mail/", {"page": 2}).content.decode()
    assert second.count('data-testid="mail-link"') == 6
    assert (
        client.get("/registration/mail/", {"courier": "ems"})
        .content.decode()
        .count('data-testid="mail-link"')
        == 1
    )
    found = client.get(
        "/registration/mail/", {"q": "sf 0000000000007"}
    ).content.decode()  # typed with a space
    assert found.count('data-testid="mail-link"') == 1 and case.number in found
    assert (
        client.get("/registration/mail/", {"q": case.number})
        .content.decode()
        .count('data-testid="mail-link"')
        == 1
    )
    assert (
        client.get("/registration/mail/", {"linked": "yes"}).content.decode().count('data-testid="mail-link"')
        == 1
    )
    assert "邮政快件" in client.get("/registration/mail/", {"q": "邮政"}).content.decode()
    bad = client.get("/registration/mail/", {"date_from": "2023-13-01", "courier": "dhl"})
    assert bad.status_code == 200 and 'data-testid="filter-errors"' in bad.content.decode()


def test_package_page_shows_documents_and_every_handover(client_for, clerk, authority, make_user):
    receiver = make_user("registration_clerk", display_name="执照打印岗")
    package = package_for(authority, clerk, 1, case=make_case(authority))
    client = client_for(clerk)
    response = client.post(
        f"/registration/mail/{package.pk}/handover/", {"to_user": receiver.pk, "purpose": "移交执照打印"}
    )
    assert response.status_code == 302
    page = client.get(f"/registration/mail/{package.pk}/").content.decode()
    table = page[page.index('data-testid="handover-table"') :].split("</table>")[0]
    assert "执照打印岗" in table and "移交执照打印" in table and str(clerk) in table
    assert "<li>申请书</li><li>章程</li>" in page


def test_the_handover_form_offers_the_purposes_of_the_packages_direction(client_for, clerk, authority):
    package = package_for(authority, clerk, 3, case=make_case(authority))
    form = client_for(clerk).get(f"/registration/mail/{package.pk}/").context["handover_form"]
    offered = [value for value, _label in form.fields["purpose"].choices if value]
    assert "移交执照打印" in offered and "移交寄出" not in offered
    refused = client_for(clerk).post(
        f"/registration/mail/{package.pk}/handover/", {"to_user": clerk.pk, "purpose": "移交寄出"}
    )
    assert refused.status_code == 400
    assert "移交寄出" not in [v for v, _l in refused.context["handover_form"].fields["purpose"].choices]


def test_case_timeline_shows_its_mail_to_those_who_may_see_mail(client_for, clerk, authority, make_user):
    receiver = make_user("registration_clerk", display_name="执照打印岗")
    case = make_case(authority)
    package = package_for(authority, clerk, 2, case=case)
    mail.mail_handover(package=package, actor=clerk, to_user=receiver, purpose="移交执照打印")
    url = f"/registration/cases/{case.pk}/timeline/"
    page = client_for(clerk).get(url).content.decode()
    timeline = page[page.index('data-testid="timeline"') :].split("</ol>")[0]
    assert "收到邮寄件" in timeline and "SF0000000000002" in timeline
    assert "邮寄件交接" in timeline and "执照打印岗" in timeline and "移交执照打印" in timeline
    # An investigator may read the case but not the mail room's records.
    hidden = client_for(make_user("investigator")).get(url).content.decode()
    assert "收件" in hidden and "SF0000000000002" not in hidden and "邮寄件交接" not in hidden


def test_bad_form_input_comes_back_as_field_errors(client_for, clerk, authority):
    client = client_for(clerk)
    response = client.post(
        "/registration/mail/new/",
        {
            "courier": "zto",
            "tracking_number": "ZT123",
            "enterprise_name": "丙",
            "documents": "",
            "case_number": "NOPE",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-field-error="case_number"' in page and "没有找到业务编号为“NOPE”的业务" in page
    response = client.post(
        "/registration/mail/new/",
        {"courier": "zto", "tracking_number": "ZT123", "enterprise_name": "丙", "documents": ""},
    )
    page = response.content.decode()
    assert 'data-field-error="tracking_number"' in page and "中通快递的快递单号应为" in page
    assert 'data-field-error="documents"' in page
    package = package_for(authority, clerk, 1)
    response = client.post(
        f"/registration/mail/{package.pk}/handover/", {"to_user": clerk.pk, "purpose": "移交预审/受理"}
    )
    assert response.status_code == 400
    assert "请选择本机关的在岗人员" in response.content.decode()  # oneself is not offered
    response = client.post(f"/registration/mail/{package.pk}/link-case/", {"case_number": "NOPE"})
    assert response.status_code == 400 and "没有找到该业务编号的业务" in response.content.decode()
    assert not MailHandover.objects.exists()


def test_api_reports_bad_tracking_numbers_per_field(client_for, clerk):
    response = client_for(clerk).post(
        "/api/mail-packages/",
        json.dumps(
            {"courier": "jd", "tracking_number": "JD1", "enterprise_name": "丁", "documents": "申请书"}
        ),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["tracking_number"][0].startswith("京东物流的快递单号应为")


def test_the_case_panel_says_when_the_licence_was_already_posted(client_for, clerk, manager, authority):
    case = licensed_case(authority, clerk, manager)
    client = client_for(clerk)
    panel = client.get(f"/registration/cases/{case.pk}/documents/").content.decode()
    assert "登记寄出营业执照" in panel and "already-posted" not in panel
    response = client.post(
        f"/registration/cases/{case.pk}/mail-out/",
        {"courier": "ems", "tracking_number": "EA123456789CN", "address": "广州市南沙区海滨路 1 号"},
    )
    assert response.status_code == 302
    panel = client.get(f"/registration/cases/{case.pk}/documents/").content.decode()
    assert "再次寄出营业执照" in panel and 'data-testid="already-posted"' in panel
    assert "EA123456789CN" in panel


def test_outbound_form_is_refused_before_printing(client_for, clerk, authority):
    case = make_case(authority)
    response = client_for(clerk).post(
        f"/registration/cases/{case.pk}/mail-out/",
        {"courier": "ems", "tracking_number": "EA123456789CN", "address": "x"},
    )
    assert response.status_code == 400
    assert "该业务尚未打印营业执照，不能登记寄出" in response.content.decode()


def test_export_lists_the_packages_with_their_last_handover(client_for, clerk, authority, make_user):
    receiver = make_user("registration_clerk", display_name="档案岗")
    package = package_for(authority, clerk, 1, enterprise_name="=HYPERLINK(1)")
    mail.mail_handover(package=package, actor=clerk, to_user=receiver, purpose="移交档案管理")
    response = client_for(clerk).get("/registration/mail/export/")
    rows = list(
        load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(values_only=True)
    )
    assert rows[0][:3] == ("方向", "快递公司", "快递单号")
    assert rows[1][2] == "SF0000000000001"
    assert rows[1][3] == "'=HYPERLINK(1)"  # typed text never becomes a formula
    assert rows[1][6] == "申请书；章程"
    assert rows[1][9] == 1 and rows[1][10].endswith("移交档案管理 → 档案岗")


def test_another_authoritys_mail_does_not_exist_for_me(client_for, clerk, other_authority, make_user):
    theirs = package_for(other_authority, make_user("registration_clerk", authorities=[other_authority]), 1)
    client = client_for(clerk)
    assert client.get(f"/registration/mail/{theirs.pk}/").status_code == 404
    assert client.get(f"/api/mail-packages/{theirs.pk}/").status_code == 404
    assert client.post(f"/registration/mail/{theirs.pk}/handover/", {}).status_code == 404
    assert theirs.tracking_number not in client.get("/registration/mail/").content.decode()
    assert MailPackage.objects.count() == 1


def test_the_mail_list_costs_the_same_queries_for_3_or_30_packages(client_for, clerk, authority, make_user):
    from bizreg.registration.tests.docs_fixtures import queries_for

    colleague = make_user("registration_clerk")
    client = client_for(clerk)

    def add(n):
        package = package_for(authority, clerk, n, case=make_case(authority))
        mail.mail_handover(package=package, actor=clerk, to_user=colleague, purpose="移交预审/受理")

    for n in range(3):
        add(n)
    few = queries_for(client, "/registration/mail/")
    for n in range(3, 30):
        add(n)
    assert queries_for(client, "/registration/mail/") == few


def test_a_background_export_is_written_in_the_submitters_language(client_for, clerk, authority, settings):
    for n in (1, 2):
        package_for(authority, clerk, n)
    settings.EXPORT_INLINE_MAX_ROWS = 1
    client = client_for(clerk)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    queued = client.get("/registration/mail/export/")  # queued once the request commits
    job = BackgroundJob.objects.get(kind="core.export")
    assert queued["Location"] == f"/jobs/{job.pk}/" and job.parameters["language"] == "en"
    with translation.override("zh-hans"):  # a worker runs in the server's language
        assert jobs.execute(job.pk) == "succeeded"
    job.refresh_from_db()
    assert job.result["filename"].startswith("Mail_")  # 邮寄件, as the English page names the list
    workbook = load_workbook(io.BytesIO(b"".join(client.get(f"/jobs/{job.pk}/download/").streaming_content)))
    assert workbook.active.title == "Mail" and workbook.active.max_row == 3
