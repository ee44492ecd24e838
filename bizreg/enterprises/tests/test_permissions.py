"""The permission matrix: every register page and API endpoint, opened by every role.

Each case names the roles that may use it and the status they get; every other role must get 403.
State-changing cases get a fresh enterprise per role so one role's action cannot hide another's answer.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from bizreg.accounts.roles import ROLES
from bizreg.core.identifiers import build_resident_id
from bizreg.enterprises import services
from bizreg.enterprises.models import FtzAddressRule
from bizreg.enterprises.tests.conftest import next_uscc

pytestmark = pytest.mark.django_db

ALL = {role.code for role in ROLES}
STAFF = {
    "registration_clerk",
    "archivist",
    "hotline_agent",
    "investigator",
    "enterprise_officer",
    "manager",
    "department_viewer",  # other departments of the bureau look enterprises up read-only
}
CLERK = {"registration_clerk"}
LOCKERS = {"registration_clerk", "investigator"}
EXPORTERS = {"registration_clerk", "enterprise_officer", "manager"}
FULL_ID = {"registration_clerk", "investigator", "manager"}
MANAGER = {"manager"}


@dataclass
class Case:
    name: str
    method: str
    url: str  # {pk} is a fresh enterprise of the user's authority, {rule} an FTZ rule
    allowed: set[str]
    ok: int
    data: dict[str, Any] = field(default_factory=dict)
    json: bool = False


def api_payload(street_pk: int) -> dict:
    return {
        "uscc": next_uscc(),
        "name": "权限测试有限公司",
        "entity_type": "llc",
        "legal_rep_name": "周六",
        "legal_rep_id_number": build_resident_id("440115", dt.date(1990, 2, 2), 77),
        "established_on": "2022-02-02",
        "industry": "F",
        "address": "南沙区某路 1 号",
        "street": street_pk,
    }


PAGE_CASES = [
    Case("list", "get", "/enterprises/", STAFF, 200),
    Case("list partial", "get", "/enterprises/?q=x", STAFF, 200),
    Case("detail", "get", "/enterprises/{pk}/", STAFF, 200),
    Case("create form", "get", "/enterprises/new/", CLERK, 200),
    Case("edit form", "get", "/enterprises/{pk}/edit/", CLERK, 200),
    Case("edit post", "post", "/enterprises/{pk}/edit/", CLERK, 200, {"name": ""}),
    Case("lock form", "get", "/enterprises/{pk}/lock/", LOCKERS, 200),
    Case("lock post", "post", "/enterprises/{pk}/lock/", LOCKERS, 302, {"reason": "测试锁定"}),
    Case("unlock form", "get", "/enterprises/{pk}/unlock/", LOCKERS, 200),
    Case("reveal id", "post", "/enterprises/{pk}/reveal-id/", FULL_ID, 200),
    Case("export", "get", "/enterprises/export/", EXPORTERS, 200),
    Case("export full id", "get", "/enterprises/export/?full_id=1", EXPORTERS & FULL_ID, 200),
    Case("import form", "get", "/enterprises/import/", CLERK, 200),
    Case("import template", "get", "/enterprises/import/template/", CLERK, 200),
    Case("uscc exceptions", "get", "/enterprises/uscc-exceptions/", MANAGER, 200),
    Case("ftz rules", "get", "/enterprises/ftz-rules/", STAFF, 200),
    Case("ftz rule new", "get", "/enterprises/ftz-rules/new/", MANAGER, 200),
    Case("ftz rule edit", "get", "/enterprises/ftz-rules/{rule}/edit/", MANAGER, 200),
    Case("ftz recompute", "post", "/enterprises/ftz-rules/recompute/", MANAGER, 302),
]

API_CASES = [
    Case("api list", "get", "/api/enterprises/", STAFF, 200),
    Case("api detail", "get", "/api/enterprises/{pk}/", STAFF, 200),
    Case("api full id", "get", "/api/enterprises/{pk}/?full_id=1", FULL_ID, 200),
    Case("api create", "post", "/api/enterprises/", CLERK, 201, {"payload": True}, json=True),
    Case(
        "api patch",
        "patch",
        "/api/enterprises/{pk}/",
        CLERK,
        200,
        {"address": "南沙区新地址 2 号"},
        json=True,
    ),
    Case("api lock", "post", "/api/enterprises/{pk}/lock/", LOCKERS, 201, {"reason": "接口锁定"}, json=True),
    Case(
        "api unlock (not locked)",
        "post",
        "/api/enterprises/{pk}/unlock/",
        LOCKERS,
        409,
        {"reason": "x"},
        json=True,
    ),
]


def request(client, case: Case, url: str, street_pk: int):
    data = case.data
    if data.get("payload"):
        data = api_payload(street_pk)
    if case.json:
        return getattr(client, case.method)(url, json.dumps(data), content_type="application/json")
    return getattr(client, case.method)(url, data)


def run_matrix(case: Case, role_users, client_for, create, authority, street):
    rule = FtzAddressRule.objects.create(
        authority=authority, area_name="片区", address_keyword="不会命中的关键词"
    )
    outcomes = {}
    for role in sorted(ALL):
        enterprise = create()
        url = case.url.format(pk=enterprise.pk, rule=rule.pk)
        response = request(client_for(role_users[role]), case, url, street.pk)
        outcomes[role] = response.status_code
    expected = {role: (case.ok if role in case.allowed else 403) for role in ALL}
    assert outcomes == expected


@pytest.mark.parametrize("case", PAGE_CASES, ids=lambda c: c.name)
def test_page_permissions(case, role_users, client_for, create, authority, street, eager):
    run_matrix(case, role_users, client_for, create, authority, street)


@pytest.mark.parametrize("case", API_CASES, ids=lambda c: c.name)
def test_api_permissions(case, role_users, client_for, create, authority, street):
    run_matrix(case, role_users, client_for, create, authority, street)


def test_forbidden_page_is_the_friendly_chinese_403(client_for, role_users):
    response = client_for(role_users["finance_officer"]).get("/enterprises/")
    assert response.status_code == 403
    assert "无权访问" in response.content.decode()


def test_forbidden_api_answers_in_chinese(client_for, role_users, create):
    enterprise = create()
    response = client_for(role_users["archivist"]).get(f"/api/enterprises/{enterprise.pk}/?full_id=1")
    assert response.status_code == 403
    assert response.json()["detail"] == "您没有查看完整身份证号的权限。"


def test_api_never_deletes(client_for, role_users, create, make_user):
    enterprise = create()
    for role in ("registration_clerk", "manager"):
        assert client_for(role_users[role]).delete(f"/api/enterprises/{enterprise.pk}/").status_code == 403
    admin = make_user(is_superuser=True)
    assert client_for(admin).delete(f"/api/enterprises/{enterprise.pk}/").status_code == 405
    assert enterprise.__class__.objects.filter(pk=enterprise.pk).exists()


def test_anonymous_is_sent_to_login_or_refused(client, create):
    enterprise = create()
    for url in (
        "/enterprises/",
        f"/enterprises/{enterprise.pk}/",
        "/enterprises/import/",
        "/enterprises/export/",
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get("/api/enterprises/").status_code in (401, 403)


def test_import_job_page_is_for_the_importing_clerk_only(
    client_for, role_users, make_user, authority, eager, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from bizreg.enterprises.tests.test_import import workbook_bytes

    clerk = role_users["registration_clerk"]
    upload = SimpleUploadedFile("a.xlsx", workbook_bytes([]))
    with django_capture_on_commit_callbacks(execute=True):
        job = services.enterprise_import_submit(
            authority=authority, actor=clerk, upload=upload, good_rows_only=False
        )
    url = f"/enterprises/import/{job.pk}/"
    assert client_for(clerk).get(url).status_code == 200
    assert client_for(role_users["manager"]).get(url).status_code == 403
    other_clerk = make_user("registration_clerk")
    assert client_for(other_clerk).get(url).status_code == 404
