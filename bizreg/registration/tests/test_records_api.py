"""/api/registration-service-records/: list with the page's filters, create as the acting user, scoped."""

from __future__ import annotations

import pytest
from django.utils import timezone

from bizreg.registration.models import ServiceRecord
from bizreg.registration.tests.records_fixtures import make_case
from bizreg.testing import factories

pytestmark = pytest.mark.django_db

URL = "/api/registration-service-records/"


@pytest.fixture
def clerk(role_users):
    return role_users["registration_clerk"]


def test_create_by_uscc_and_list(authority, clerk, client_for):
    enterprise = factories.EnterpriseFactory(authority=authority)
    client = client_for(clerk)
    response = client.post(
        URL,
        {"kind": "online_guidance", "minutes": 12, "enterprise": enterprise.uscc},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["enterprise"] == enterprise.pk and body["staff"] == clerk.pk and body["minutes"] == 12
    listed = client.get(URL, {"kind": "online_guidance"}).json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "x", "minutes": 5, "enterprise": "某公司"}, "kind"),
        ({"kind": "info_entry", "minutes": 0, "enterprise": "某公司"}, "minutes"),
        ({"kind": "info_entry", "minutes": 5, "enterprise": ""}, "enterprise"),
        ({"kind": "info_entry", "minutes": 5, "enterprise": "91440115MA59C7R27A"}, "enterprise"),
        ({"kind": "info_entry", "minutes": 5, "enterprise": "某公司", "case_number": "NOPE"}, "case_number"),
    ],
)
def test_bad_input_is_400_with_the_field(clerk, client_for, payload, field):
    response = client_for(clerk).post(URL, payload, content_type="application/json")
    assert response.status_code == 400
    assert field in response.json()
    assert not ServiceRecord.objects.exists()


def test_bad_filter_is_400(clerk, client_for):
    assert client_for(clerk).get(URL, {"date_from": "soon"}).status_code == 400


@pytest.mark.parametrize(
    ("role", "get", "post"),
    [
        ("registration_clerk", 200, 201),
        ("manager", 200, 403),
        ("archivist", 403, 403),
        ("hotline_agent", 403, 403),
        ("finance_officer", 403, 403),
        ("digitization_operator", 403, 403),
    ],
)
def test_roles(role_users, client_for, role, get, post):
    client = client_for(role_users[role])
    assert client.get(URL).status_code == get
    payload = {"kind": "info_entry", "minutes": 5, "enterprise": "某公司"}
    assert client.post(URL, payload, content_type="application/json").status_code == post


def test_other_authority_rows_are_not_listed(authority, other_authority, clerk, client_for, make_user):
    stranger = make_user("registration_clerk", authorities=[other_authority])
    ServiceRecord.objects.create(
        authority=other_authority,
        staff=stranger,
        kind="info_entry",
        enterprise_name="外区",
        occurred_at=timezone.now(),
        minutes=3,
    )
    case = make_case(other_authority)
    client = client_for(clerk)
    assert client.get(URL).json()["count"] == 0
    response = client.post(
        URL,
        {"kind": "info_entry", "minutes": 5, "enterprise": "某公司", "case_number": case.number},
        content_type="application/json",
    )
    assert response.status_code == 400


def test_anonymous_is_refused(client):
    assert client.get(URL).status_code in (401, 403)
