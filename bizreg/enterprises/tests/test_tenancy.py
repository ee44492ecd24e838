"""Two authorities: neither sees the other's register, and "not yours" looks like "does not exist"."""

import json

import pytest

from bizreg.core.models import AccessLog
from bizreg.enterprises.models import EnterpriseLock
from bizreg.testing import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def outsider(other_authority):
    """A clerk-and-manager of the other authority: every permission, none of our data."""
    from django.contrib.auth.models import Permission

    user = factories.UserFactory(role="registration_clerk", authorities=[other_authority])
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="enterprises"))
    return user


@pytest.mark.parametrize(
    "method, path, data",
    [
        ("get", "/enterprises/{pk}/", None),
        ("get", "/enterprises/{pk}/edit/", None),
        ("post", "/enterprises/{pk}/edit/", {"name": "x"}),
        ("get", "/enterprises/{pk}/lock/", None),
        ("post", "/enterprises/{pk}/lock/", {"reason": "越权锁定"}),
        ("post", "/enterprises/{pk}/unlock/", {"reason": "越权解锁"}),
        ("post", "/enterprises/{pk}/reveal-id/", None),
        ("get", "/api/enterprises/{pk}/", None),
        ("patch", "/api/enterprises/{pk}/", {"name": "越权改名"}),
        ("post", "/api/enterprises/{pk}/lock/", {"reason": "越权锁定"}),
    ],
)
def test_other_authoritys_enterprise_is_404_everywhere(client_for, outsider, create, method, path, data):
    enterprise = create(name="南沙机密有限公司")
    client = client_for(outsider)
    url = path.format(pk=enterprise.pk)
    if method == "get":
        response = client.get(url)
    elif path.startswith("/api/"):
        response = getattr(client, method)(url, json.dumps(data or {}), content_type="application/json")
    else:
        response = getattr(client, method)(url, data or {})
    assert response.status_code == 404
    assert "南沙机密有限公司" not in response.content.decode()
    enterprise.refresh_from_db()
    assert enterprise.name == "南沙机密有限公司"
    assert not EnterpriseLock.objects.exists()
    assert not AccessLog.objects.exists()


def test_lists_search_export_and_api_show_only_own_authority(
    client_for, outsider, clerk, create, other_enterprise
):
    ours = create(name="南沙机密有限公司")
    client = client_for(outsider)
    html = client.get("/enterprises/", {"q": "机密"}).content.decode()
    assert "南沙机密有限公司" not in html and "天河机密贸易有限公司" in html
    by_code = client.get("/enterprises/", {"q": ours.uscc}).content.decode()
    assert "南沙机密有限公司" not in by_code
    api = client.get("/api/enterprises/", {"q": "机密"}).json()
    assert [row["name"] for row in api["results"]] == ["天河机密贸易有限公司"]
    assert api["count"] == 1

    mine = client_for(clerk).get("/api/enterprises/").json()
    assert [row["name"] for row in mine["results"]] == ["南沙机密有限公司"]


def test_former_names_of_other_authority_do_not_leak_through_search(client_for, outsider, clerk, create):
    from bizreg.enterprises import services

    enterprise = create(name="南沙旧称有限公司")
    services.enterprise_update(enterprise=enterprise, actor=clerk, name="南沙新称有限公司")
    html = client_for(outsider).get("/enterprises/", {"q": "旧称"}).content.decode()
    assert "南沙新称有限公司" not in html


def test_home_figures_count_only_own_authority(clerk, outsider, create, other_enterprise):
    from bizreg.enterprises.selectors import home_figures

    create()
    create()
    ours = {f["key"]: f["value"] for f in home_figures(user=clerk)}
    theirs = {f["key"]: f["value"] for f in home_figures(user=outsider)}
    assert ours["enterprises_total"] == 2 and theirs["enterprises_total"] == 1


def test_user_without_authority_sees_nothing_and_cannot_register(client_for, create, entry):
    create()
    lost = factories.UserFactory(role="registration_clerk")
    client = client_for(lost)
    assert "共 0 条" in client.get("/enterprises/").content.decode()
    assert client.get("/enterprises/new/").status_code == 403
