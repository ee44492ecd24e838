"""The permission matrix: every case page and API endpoint, opened by every role.

Each entry names the roles that may use it and the status they get; every other role must get 403. Each
role gets a fresh case in the state the entry needs, so one role's action cannot hide another's answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from bizreg.accounts.roles import ROLES
from bizreg.registration.services import cases as services
from bizreg.registration.tests.cases_fixtures import *  # noqa: F403 — fixtures

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]

ALL = {role.code for role in ROLES}
VIEW = {"registration_clerk", "archivist", "hotline_agent", "investigator", "enterprise_officer", "manager"}
CLERK = {"registration_clerk"}
MANAGER = {"manager"}
FULL = {"registration_clerk", "investigator", "manager"}


@dataclass
class Entry:
    name: str
    method: str
    url: str  # {pk} is the role's fresh case, {ext} its extension request
    allowed: set[str]
    ok: int
    state: str = "received"  # received / accepted / extension
    data: dict[str, Any] = field(default_factory=dict)
    json: bool = False


PAGES = [
    Entry("list", "get", "/registration/cases/", VIEW, 200),
    Entry("list filtered", "get", "/registration/cases/?due=warning&q=测试", VIEW, 200),
    Entry("export", "get", "/registration/cases/export/", VIEW, 200),
    Entry("due", "get", "/registration/cases/due/", VIEW, 200),
    Entry("intake form", "get", "/registration/cases/new/", CLERK, 200),
    Entry("intake post (invalid)", "post", "/registration/cases/new/", CLERK, 400, data={"case_type": "x"}),
    Entry("enterprise lookup", "get", "/registration/cases/enterprise-lookup/?q=广州", CLERK, 200),
    Entry("detail", "get", "/registration/cases/{pk}/", VIEW, 200),
    Entry("timeline", "get", "/registration/cases/{pk}/timeline/", VIEW, 200),
    Entry("reveal", "post", "/registration/cases/{pk}/reveal/", FULL, 200),
    Entry("materials", "post", "/registration/cases/{pk}/materials/", CLERK, 302),
    Entry("step form", "get", "/registration/cases/{pk}/action/return_for_correction/", CLERK, 200),
    Entry("step post", "post", "/registration/cases/{pk}/action/pass_pre_review/", CLERK, 302),
    Entry("step post, wrong state", "post", "/registration/cases/{pk}/action/approve/", CLERK, 409),
    Entry("withdraw form", "get", "/registration/cases/{pk}/action/withdraw/", CLERK, 200),
    Entry("extension form", "get", "/registration/cases/{pk}/extension/", CLERK, 200, state="accepted"),
    Entry(
        "extension post",
        "post",
        "/registration/cases/{pk}/extension/",
        CLERK,
        302,
        state="accepted",
        data={"reason": "需核实"},
    ),
    Entry("extension queue", "get", "/registration/extensions/", MANAGER, 200),
    Entry("extension history export", "get", "/registration/extensions/export/", MANAGER, 200),
    Entry(
        "extension decide",
        "post",
        "/registration/extensions/{ext}/decide/",
        MANAGER,
        302,
        state="extension",
        data={"decision": "approve"},
    ),
]

API = [
    Entry("api list", "get", "/api/registration-cases/", VIEW, 200),
    Entry("api detail", "get", "/api/registration-cases/{pk}/", VIEW, 200),
    Entry("api full id", "get", "/api/registration-cases/{pk}/?full_id=1", FULL, 200),
    Entry("api intake", "post", "/api/registration-cases/", CLERK, 201, data={"payload": True}, json=True),
    Entry(
        "api step",
        "post",
        "/api/registration-cases/{pk}/transition/",
        CLERK,
        200,
        data={"action": "pass_pre_review"},
        json=True,
    ),
    Entry(
        "api step, wrong state",
        "post",
        "/api/registration-cases/{pk}/transition/",
        CLERK,
        409,
        data={"action": "archive"},
        json=True,
    ),
    Entry(
        "api extension",
        "post",
        "/api/registration-cases/{pk}/extension/",
        CLERK,
        201,
        state="accepted",
        data={"reason": "需核实"},
        json=True,
    ),
    Entry(
        "api extension decide",
        "post",
        "/api/registration-cases/{pk}/extension/decide/",
        MANAGER,
        200,
        state="extension",
        data={"approve": True},
        json=True,
    ),
]


@pytest.fixture
def fresh(intake, step, clerk):
    def make(state: str):
        case = intake()
        ext = None
        if state in ("accepted", "extension"):
            case = step(step(case, "pass_pre_review"), "accept")
        if state == "extension":
            ext = services.case_extension_request(case=case, actor=clerk, reason="需核实")
        return case, ext

    return make


def run(entry: Entry, role_users, client_for, fresh, intake_data):
    outcomes = {}
    for role in sorted(ALL):
        case, ext = fresh(entry.state)
        url = entry.url.format(pk=case.pk, ext=ext.pk if ext else 0)
        data = intake_data() if entry.data.get("payload") else entry.data
        client = client_for(role_users[role])
        if entry.json:
            response = getattr(client, entry.method)(url, json.dumps(data), content_type="application/json")
        else:
            response = getattr(client, entry.method)(url, data)
        outcomes[role] = response.status_code
    assert outcomes == {role: (entry.ok if role in entry.allowed else 403) for role in ALL}


@pytest.mark.parametrize("entry", PAGES, ids=lambda e: e.name)
def test_page_permissions(entry, role_users, client_for, fresh, intake_data):
    run(entry, role_users, client_for, fresh, intake_data)


@pytest.mark.parametrize("entry", API, ids=lambda e: e.name)
def test_api_permissions(entry, role_users, client_for, fresh, intake_data):
    run(entry, role_users, client_for, fresh, intake_data)


def test_navigation_shows_the_case_pages_to_those_who_may_see_them(role_users, client_for):
    for role in sorted(ALL):
        page = client_for(role_users[role]).get("/").content.decode()
        shown = 'data-testid="nav-registration-case_list"' in page
        assert shown == (role in VIEW), role
        assert ('data-testid="nav-registration-case_due"' in page) == (role in VIEW), role
