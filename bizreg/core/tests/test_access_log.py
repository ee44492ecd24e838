"""The personal-data access log: the service that writes it and the page managers review it on."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import RequestFactory
from django.utils import timezone

from bizreg.accounts.roles import ROLES
from bizreg.core.models import AccessLog
from bizreg.core.services import access_log_record

pytestmark = pytest.mark.django_db


def test_record_writes_who_what_where(make_user, authority):
    clerk = make_user("registration_clerk")
    request = RequestFactory().get("/enterprises/7/?reveal=1", REMOTE_ADDR="10.1.2.3")
    request.user = clerk
    row = access_log_record(
        user=clerk,
        action=AccessLog.Action.VIEW,
        object_type="enterprises.enterprise",
        object_id=7,
        fields="legal_rep_id_number",
        authority=authority,
        object_label="广州南沙海洋科技有限公司",
        request=request,
    )
    row.refresh_from_db()
    assert row.user == clerk
    assert row.authority == authority
    assert row.object_id == "7"
    assert row.ip_address == "10.1.2.3"
    assert row.path == "/enterprises/7/?reveal=1"
    assert row.record_count == 1
    assert timezone.now() - row.occurred_at < dt.timedelta(seconds=10)


def test_record_of_an_export_counts_rows_and_truncates_long_labels(make_user, authority):
    user = make_user("manager")
    row = access_log_record(
        user=user,
        action=AccessLog.Action.EXPORT,
        object_type="enterprises.enterprise",
        object_id="export",
        fields="legal_rep_id_number",
        authority=authority,
        object_label="名" * 500,
        record_count=1234,
    )
    row.refresh_from_db()
    assert row.record_count == 1234
    assert len(row.object_label) == 200
    assert row.ip_address is None and row.path == ""


def test_anonymous_viewer_is_recorded_without_user(authority):
    from django.contrib.auth.models import AnonymousUser

    row = access_log_record(
        user=AnonymousUser(),
        action=AccessLog.Action.API,
        object_type="x",
        object_id=1,
        fields="f",
        authority=authority,
    )
    assert row.user is None


def _log(user, authority, label, *, action=AccessLog.Action.VIEW, when=None):
    row = access_log_record(
        user=user,
        action=action,
        object_type="enterprises.enterprise",
        object_id=label,
        fields="legal_rep_id_number",
        authority=authority,
        object_label=label,
    )
    if when is not None:
        AccessLog.objects.filter(pk=row.pk).update(occurred_at=when)
    return row


@pytest.fixture
def logs(make_user, authority, other_authority):
    clerk = make_user("registration_clerk", display_name="王晓红", username="wangxh")
    investigator = make_user("investigator", display_name="赵调查", username="zhaodc")
    outsider = make_user("registration_clerk", authorities=[other_authority], username="tianhe_clerk")
    tz = timezone.get_current_timezone()
    _log(clerk, authority, "南沙甲公司", when=dt.datetime(2023, 3, 1, 10, tzinfo=tz))
    _log(
        clerk,
        authority,
        "南沙乙公司",
        action=AccessLog.Action.EXPORT,
        when=dt.datetime(2023, 4, 1, 10, tzinfo=tz),
    )
    _log(investigator, authority, "南沙丙公司", when=dt.datetime(2023, 5, 1, 10, tzinfo=tz))
    _log(outsider, other_authority, "天河丁公司")
    return {"clerk": clerk, "investigator": investigator}


def _labels(response) -> set[str]:
    return {row.object_label for row in response.context["page"]}


def test_manager_sees_own_authoritys_log_only(logs, make_user, client_for):
    response = client_for(make_user("manager")).get("/access-log/")
    assert response.status_code == 200
    assert _labels(response) == {"南沙甲公司", "南沙乙公司", "南沙丙公司"}
    assert "天河丁公司" not in response.content.decode()


def test_filters(logs, make_user, client_for):
    client = client_for(make_user("manager"))
    assert _labels(client.get("/access-log/", {"user": "王晓"})) == {"南沙甲公司", "南沙乙公司"}
    assert _labels(client.get("/access-log/", {"user": "zhaodc"})) == {"南沙丙公司"}
    assert _labels(client.get("/access-log/", {"action": "export"})) == {"南沙乙公司"}
    assert _labels(client.get("/access-log/", {"object": "丙"})) == {"南沙丙公司"}
    assert _labels(client.get("/access-log/", {"date_from": "2023-03-15", "date_to": "2023-04-30"})) == {
        "南沙乙公司"
    }


def test_date_filter_takes_whole_local_days(make_user, authority, client_for):
    """The bounds are the bureau's calendar days (UTC+8), both included, to the second."""
    clerk = make_user("registration_clerk")
    tz = timezone.get_current_timezone()
    for label, when in {
        "前一天深夜": dt.datetime(2023, 3, 31, 23, 59, 59, tzinfo=tz),
        "首日零点": dt.datetime(2023, 4, 1, 0, 0, tzinfo=tz),  # 2023-03-31 16:00 UTC
        "末日深夜": dt.datetime(2023, 4, 2, 23, 59, 59, tzinfo=tz),  # 2023-04-02 15:59 UTC
        "次日零点": dt.datetime(2023, 4, 3, 0, 0, tzinfo=tz),
    }.items():
        _log(clerk, authority, label, when=when)
    client = client_for(make_user("manager"))
    days = {"date_from": "2023-04-01", "date_to": "2023-04-02"}
    assert _labels(client.get("/access-log/", days)) == {"首日零点", "末日深夜"}
    assert _labels(client.get("/access-log/", {"date_from": "2023-04-02"})) == {"末日深夜", "次日零点"}
    assert _labels(client.get("/access-log/", {"date_to": "2023-03-31"})) == {"前一天深夜"}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "2023-13-45"}, "起始日期"),
        ({"date_to": "明天"}, "截止日期"),
        ({"date_from": "2023-05-01", "date_to": "2023-04-01"}, "起始日期不能晚于截止日期"),
        ({"action": "delete"}, "操作"),
        ({"page": "abc"}, None),
        ({"page": "99999"}, None),
    ],
)
def test_bad_filter_input_is_a_message_not_a_crash(logs, make_user, client_for, params, message):
    response = client_for(make_user("manager")).get("/access-log/", params)
    assert response.status_code == 200
    if message:
        assert message in response.content.decode()
        assert "已忽略无效的筛选条件" in response.content.decode()


@pytest.mark.parametrize("role", [r.code for r in ROLES if r.code != "manager"])
def test_other_roles_are_refused(logs, role_users, client_for, role):
    assert client_for(role_users[role]).get("/access-log/").status_code == 403


def test_anonymous_is_sent_to_login(client):
    response = client.get("/access-log/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
