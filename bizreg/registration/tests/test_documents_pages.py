"""Notice pages and API: who may list and download notices, tenancy, bad filters, the case panel."""

# ruff: noqa: F811 — the shared fixtures are imported from docs_fixtures and requested by name

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from bizreg.accounts.roles import ROLES
from bizreg.registration.models import NoticeKind
from bizreg.registration.services import documents
from bizreg.registration.tests.docs_fixtures import (  # noqa: F401
    at,
    case,
    clerk,
    make_case,
    private_media,
)

pytestmark = pytest.mark.django_db

ALL = {role.code for role in ROLES}
# Everyone who works with registration cases reads their notices; the hotline reads cases only.
NOTICE_READERS = {"registration_clerk", "archivist", "investigator", "enterprise_officer", "manager"}
CASE_READERS = NOTICE_READERS | {"hotline_agent"}


@pytest.fixture
def notice(case, clerk):
    return documents.notice_issue(
        case=case, kind=NoticeKind.APPROVAL_ESTABLISHMENT, actor=clerk, issued_at=at(dt.date(2023, 3, 2), 16)
    )


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("/registration/notices/", NOTICE_READERS),
        ("/registration/notices/export/", NOTICE_READERS),
        ("/registration/notices/{notice}/pdf/", NOTICE_READERS),
        ("/registration/cases/{case}/documents/", CASE_READERS),
        ("/api/registration-notices/", NOTICE_READERS),
        ("/api/registration-notices/{notice}/", NOTICE_READERS),
        ("/api/registration-notices/{notice}/pdf/", NOTICE_READERS),
    ],
)
def test_permission_matrix(url, allowed, role_users, client_for, notice, case):
    outcomes = {
        role: client_for(role_users[role]).get(url.format(notice=notice.pk, case=case.pk)).status_code
        for role in sorted(ALL)
    }
    assert outcomes == {role: 200 if role in allowed else 403 for role in ALL}


def test_download_is_the_stored_pdf(client_for, clerk, notice):
    response = client_for(clerk).get(f"/registration/notices/{notice.pk}/pdf/")
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "%E5%87%86%E4%BA%88" in response["Content-Disposition"]  # 准予… in the file name
    assert hashlib.sha256(response.content).hexdigest() == notice.sha256


def test_another_authoritys_notice_does_not_exist_for_me(client_for, clerk, other_authority, make_user):
    other_clerk = make_user("registration_clerk", authorities=[other_authority])
    theirs = documents.notice_issue(
        case=make_case(other_authority, enterprise_name="天河保密贸易有限公司"),
        kind=NoticeKind.APPROVAL_ESTABLISHMENT,
        actor=other_clerk,
    )
    client = client_for(clerk)
    assert client.get(f"/registration/notices/{theirs.pk}/pdf/").status_code == 404
    assert client.get(f"/api/registration-notices/{theirs.pk}/pdf/").status_code == 404
    assert client.get(f"/registration/cases/{theirs.case_id}/documents/").status_code == 404
    assert "天河保密贸易有限公司" not in client.get("/registration/notices/").content.decode()
    assert client.get("/api/registration-notices/").json()["count"] == 0


def test_list_filters_and_search(client_for, clerk, authority, notice):
    documents.notice_issue(
        case=make_case(authority, enterprise_name="广州南沙港湾物流有限公司"), kind="acceptance", actor=clerk
    )
    client = client_for(clerk)
    page = client.get("/registration/notices/", {"q": "海洋"}).content.decode()
    assert "广州南沙海洋科技有限公司" in page and "港湾物流" not in page
    page = client.get("/registration/notices/", {"kind": "acceptance"}).content.decode()
    assert "港湾物流" in page and "海洋科技" not in page
    assert (
        client.get("/registration/notices/", {"date_from": "2023-03-02", "date_to": "2023-03-02"}).status_code
        == 200
    )


def test_the_notice_register_exports_what_the_list_shows(client_for, clerk, authority, notice):
    import io

    from openpyxl import load_workbook

    documents.notice_issue(
        case=make_case(authority, enterprise_name="广州南沙港湾物流有限公司"), kind="acceptance", actor=clerk
    )
    client = client_for(clerk)
    response = client.get("/registration/notices/export/", {"kind": "acceptance"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("文书编号", "文书类型", "业务编号", "业务类型", "企业名称", "签发时间", "签发人")
    assert [(r[1], r[4], r[6]) for r in rows[1:]] == [("受理通知书", "广州南沙港湾物流有限公司", str(clerk))]
    refused = client.get("/registration/notices/export/", {"kind": "forged"}, follow=True)
    assert "筛选条件无效" in refused.content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "2023-03-05", "date_to": "2023-03-01"}, "起始日期不能晚于截止日期"),
        ({"date_from": "2023-02-30"}, "签发日期自：请输入有效日期（YYYY-MM-DD）"),
        ({"kind": "forged"}, "文书类型："),
    ],
)
def test_bad_filters_come_back_as_errors_not_crashes(client_for, clerk, notice, params, message):
    response = client_for(clerk).get("/registration/notices/", params)
    assert response.status_code == 200
    page = response.content.decode()
    errors = page[page.index('data-testid="filter-errors"') :].split("</div>")[0]
    assert message in errors
    assert notice.number in page  # the invalid filter is ignored, not applied


def test_a_bad_page_number_shows_a_page(client_for, clerk, notice):
    response = client_for(clerk).get("/registration/notices/", {"page": "abc"})
    assert response.status_code == 200
    assert notice.number in response.content.decode()


def test_case_panel_lists_notices_with_download_links(client_for, clerk, case, notice):
    page = client_for(clerk).get(f"/registration/cases/{case.pk}/documents/").content.decode()
    assert notice.number in page
    assert f"/registration/notices/{notice.pk}/pdf/" in page
    assert "尚未打印营业执照" in page


def test_case_panel_says_a_migration_out_prints_no_licence(client_for, clerk, authority):
    moved_out = make_case(authority, case_type="migration_out", enterprise_name="广州南沙迁出测试有限公司")
    page = client_for(clerk).get(f"/registration/cases/{moved_out.pk}/documents/").content.decode()
    assert "迁出业务不发营业执照" in page and "尚未打印营业执照" not in page


def test_unknown_pk_is_404(client_for, clerk):
    assert client_for(clerk).get("/registration/notices/999999/pdf/").status_code == 404


def test_integrity_failure_is_a_clear_409(client_for, clerk, notice):
    from bizreg.registration.models import Notice

    notice.file.storage.delete(notice.file.name)
    Notice.objects.filter(pk=notice.pk).update(sha256="0" * 64)
    response = client_for(clerk).get(f"/registration/notices/{notice.pk}/pdf/")
    assert response.status_code == 409
    assert "校验值不符" in response.content.decode()


def test_the_api_schema_documents_the_docs_endpoints_without_warnings(client_for, clerk):
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    text = client_for(clerk).get("/api/schema/").content.decode()
    for path in (
        "/api/registration-notices/{id}/pdf/",
        "/api/licence-batches/",
        "/api/licence-sheets/print/",
        "/api/licence-sheets/{id}/spoil/",
        "/api/licence-sheets/stock/",
        "/api/mail-packages/{id}/handover/",
        "/api/mail-packages/{id}/link-case/",
    ):
        assert path in text, path
    GENERATOR_STATS.reset()
    SchemaGenerator().get_schema(request=None, public=True)
    messages = list(GENERATOR_STATS._warn_cache) + list(GENERATOR_STATS._error_cache)
    mine = [m for m in messages if any(word in str(m) for word in ("Notice", "Licence", "Mail", "kind"))]
    assert mine == []


def test_a_notice_recorded_without_its_pdf_is_rendered_on_first_download(client_for, clerk, case):
    from bizreg.registration.models import Notice

    recorded = Notice.objects.create(
        authority=case.authority,
        case=case,
        kind=NoticeKind.REJECTION,
        number="440115登驳字〔2023〕第00042号",
        verification_code="ABCDEFGHJKMNPQRS",
        issued_at=at(dt.date(2023, 3, 3), 10),
        issued_by=clerk,
        content={
            "demo": True,
            "enterprise_name": case.enterprise_name,
            "reason": "名称与他人在先登记的名称相同。",
        },
    )
    client = client_for(clerk)
    response = client.get(f"/registration/notices/{recorded.pk}/pdf/")
    assert response.status_code == 200
    recorded.refresh_from_db()
    assert hashlib.sha256(response.content).hexdigest() == recorded.sha256
    assert "名称与他人在先登记的名称相同" in "".join(recorded.content["blocks"][1].values())
    # From now on it is an ordinary notice: the same bytes again.
    assert client.get(f"/registration/notices/{recorded.pk}/pdf/").content == response.content


def test_a_recorded_notice_that_cannot_be_written_is_a_clear_409(client_for, clerk, case):
    from bizreg.registration.models import Notice

    recorded = Notice.objects.create(
        authority=case.authority,
        case=case,
        kind=NoticeKind.MIGRATION_LETTER,
        number="440115登迁字〔2023〕第00001号",
        verification_code="ABCDEFGHJKMNPQRT",
        issued_at=at(dt.date(2023, 3, 3), 10),
        issued_by=clerk,
        content={"demo": True},
    )
    response = client_for(clerk).get(f"/registration/notices/{recorded.pk}/pdf/")
    assert response.status_code == 409
    assert "迁移调档函必须写明迁入地登记机关" in response.content.decode()


def test_the_notice_list_costs_the_same_queries_for_3_or_30_rows(client_for, clerk, authority):
    from bizreg.registration.tests.docs_fixtures import queries_for

    client = client_for(clerk)
    for _ in range(3):
        documents.notice_issue(case=make_case(authority), kind=NoticeKind.ACCEPTANCE, actor=clerk)
    few = queries_for(client, "/registration/notices/")
    for _ in range(27):
        documents.notice_issue(case=make_case(authority), kind=NoticeKind.ACCEPTANCE, actor=clerk)
    assert queries_for(client, "/registration/notices/") == few
