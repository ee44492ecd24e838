"""Sign-in, lockout after repeated failures, idle timeout, password hashing and password change."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from bizreg.testing.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk(make_user):
    return make_user("registration_clerk", username="wangxh", display_name="王晓红")


def _login(client, username, password, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


def test_login_page_is_chinese(client):
    html = client.get("/accounts/login/").content.decode()
    assert "工作人员登录" in html and "用户名" in html and "密码" in html
    assert f"连续 {settings.AXES_FAILURE_LIMIT} 次密码错误" in html


def test_sign_in_and_out(client, clerk):
    response = _login(client, "wangxh", TEST_PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200 and "王晓红" in home.content.decode()
    clerk.refresh_from_db()
    assert clerk.last_login is not None
    response = client.post("/accounts/logout/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.get("/").status_code == 302


def test_sign_in_follows_next(client, clerk):
    response = client.post(
        "/accounts/login/", {"username": "wangxh", "password": TEST_PASSWORD, "next": "/enterprises/"}
    )
    assert response["Location"] == "/enterprises/"


def test_sign_in_refuses_an_external_next(client, clerk):
    response = client.post(
        "/accounts/login/", {"username": "wangxh", "password": TEST_PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_wrong_password_is_a_chinese_error(client, clerk):
    response = _login(client, "wangxh", "wrong-password")
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


def test_empty_form_is_a_field_error(client):
    response = _login(client, "", "")
    assert response.status_code == 200
    assert "该字段是必填项" in response.content.decode()


def test_disabled_account_cannot_sign_in(client, make_user):
    make_user("registration_clerk", username="gone", is_active=False)
    response = _login(client, "gone", TEST_PASSWORD)
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()
    assert client.get("/").status_code == 302


def test_lockout_after_the_failure_limit_even_with_the_right_password(client, clerk):
    limit = settings.AXES_FAILURE_LIMIT
    assert limit == 5
    for attempt in range(limit - 1):
        response = _login(client, "wangxh", f"wrong-{attempt}")
        assert response.status_code == 200, attempt
        assert "用户名或密码不正确" in response.content.decode()
    response = _login(client, "wangxh", "wrong-last")  # the limit-th failure locks
    assert response.status_code == 429
    response = _login(client, "wangxh", TEST_PASSWORD)
    assert response.status_code == 429
    html = response.content.decode()
    assert "登录失败次数过多，账户已暂时锁定" in html
    assert f"连续 {limit} 次登录失败" in html and "30 分钟后再试" in html
    assert client.get("/").status_code == 302  # not signed in


def test_lockout_is_per_username_and_address(client, clerk, make_user):
    make_user("manager", username="lijg")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "wangxh", f"wrong-{attempt}")
    assert _login(client, "wangxh", TEST_PASSWORD).status_code == 429
    # Another account from the same office computer still signs in …
    assert _login(Client(), "lijg", TEST_PASSWORD).status_code == 302
    # … and so does the locked account from another address.
    assert _login(Client(), "wangxh", TEST_PASSWORD, REMOTE_ADDR="10.0.0.8").status_code == 302


def test_success_resets_the_failure_count(client, clerk):
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "wangxh", f"wrong-{attempt}")
    assert _login(client, "wangxh", TEST_PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "wangxh", f"again-{attempt}").status_code == 200
    assert _login(client, "wangxh", TEST_PASSWORD).status_code == 302


def _session_row(client) -> Session:
    return Session.objects.get(session_key=client.session.session_key)


def test_idle_session_is_signed_out(client, clerk):
    _login(client, "wangxh", TEST_PASSWORD)
    assert client.get("/").status_code == 200
    # The last request was longer ago than the idle limit: the server-side session has expired.
    Session.objects.filter(pk=_session_row(client).pk).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    response = client.get("/enterprises/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/enterprises/"


def test_each_request_renews_the_idle_limit(client, clerk):
    assert settings.SESSION_SAVE_EVERY_REQUEST
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_IDLE_MINUTES * 60 == 30 * 60
    _login(client, "wangxh", TEST_PASSWORD)
    Session.objects.filter(pk=_session_row(client).pk).update(
        expire_date=timezone.now() + dt.timedelta(minutes=1)
    )
    assert client.get("/").status_code == 200
    remaining = _session_row(client).expire_date - timezone.now()
    assert dt.timedelta(minutes=29) < remaining <= dt.timedelta(minutes=30)


def test_passwords_are_stored_with_argon2(clerk):
    clerk.refresh_from_db()
    assert clerk.password.startswith("argon2$argon2id$")
    clerk.set_password("Another-Pass-2026")
    clerk.save()
    stored = get_user_model().objects.get(pk=clerk.pk).password
    assert stored.startswith("argon2$argon2id$")
    assert "Another-Pass-2026" not in stored


def test_password_change(client, clerk):
    _login(client, "wangxh", TEST_PASSWORD)
    page = client.get("/accounts/password/")
    assert page.status_code == 200 and "修改密码" in page.content.decode()
    response = client.post(
        "/accounts/password/",
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "Nansha-Harbour-2027",
            "new_password2": "Nansha-Harbour-2027",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/"
    assert "密码已修改" in client.get("/").content.decode()  # still signed in
    clerk.refresh_from_db()
    assert clerk.check_password("Nansha-Harbour-2027")
    assert clerk.password.startswith("argon2$")


@pytest.mark.parametrize(
    ("old", "new1", "new2", "message"),
    [
        ("wrong-old", "Nansha-Harbour-2027", "Nansha-Harbour-2027", "你的旧密码不正确"),
        (TEST_PASSWORD, "wangxh2026", "wangxh2026", "太相似"),
        (TEST_PASSWORD, "Nansha-Harbour-2027", "Nansha-Harbour-2028", "输入的两个密码不一致"),
        (TEST_PASSWORD, "short1A", "short1A", "密码长度太短"),
        (TEST_PASSWORD, "12345678901234", "12345678901234", "密码只包含数字"),
        (TEST_PASSWORD, "password123", "password123", "太常见"),
    ],
)
def test_password_change_rejects_bad_input(client, clerk, old, new1, new2, message):
    _login(client, "wangxh", TEST_PASSWORD)
    response = client.post(
        "/accounts/password/", {"old_password": old, "new_password1": new1, "new_password2": new2}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    clerk.refresh_from_db()
    assert clerk.check_password(TEST_PASSWORD)


def test_sign_in_does_not_add_a_history_row(client, clerk):
    before = clerk.history.count()
    _login(client, "wangxh", TEST_PASSWORD)
    clerk.refresh_from_db()
    assert clerk.last_login is not None
    assert clerk.history.count() == before
