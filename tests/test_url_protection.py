"""Every page and endpoint of the project refuses anonymous users, except the few meant to be public.

The list is built from the URL configuration itself, so a view added later without a login check fails
here without anyone having to remember to write the test.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

# Pages a visitor without a staff login may open.
PUBLIC_URL_NAMES = {
    "accounts:login",
    "set_language",
    "javascript-catalog",
    "api-schema",
    "api-docs",
    "api-redoc",
    "api-root",
    "api-root-format",
    "portal:progress",  # public progress query (status and dates only)
    "core:health",  # load-balancer liveness: {"ok": true}, no data
    "portal:verify_form",  # public notice verification (rate-limited, no personal data)
    "portal:verify",
    # Enterprise tracking: an enterprise follows its appeal by number + phone suffix (rate-limited; state,
    # dates, department and feedback only).
    "tracking_public:appeal_query",
    # Consultation, public side: the portal chat and knowledge base, the CSAT survey by its secret token,
    # and the channel endpoints (each checks its own signature: WeChat SHA-1, the webhook's HMAC).
    "consult_public:chat",
    "consult_public:chat_ask",
    "consult_public:chat_poll",
    "consult_public:kb_index",
    "consult_public:kb_search",
    "consult_public:kb_article",
    "consult_public:csat",
    "consult_hooks:wechat",
    "consult_hooks:webhook",
    # Archives, public side: the basic-record lookup, the full-file application, its status (reference +
    # phone, rate-limited) and the time-limited grant viewer (each checks its own token).
    "archives_public:lookup",
    "archives_public:apply",
    "archives_public:status",
    "archives_public:grant",
    "archives_public:grant_item",
    # Investigations, public side: the victim's application (rate-limited, answers with the case number
    # only) and the satisfaction survey by its secret token.
    "investigations_public:report",
    "investigations_public:survey",
}


def _walk(patterns, prefix: str = "", namespace: str | None = None):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if str(entry.pattern).startswith("admin/"):
                continue  # Django admin has its own login
            ns = entry.namespace or namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield prefix + str(entry.pattern), name


def _concrete_path(pattern: str) -> str | None:
    if "^" in pattern:  # a regex route (DRF's router), possibly under a path() prefix
        if "(?P<format>" in pattern:
            return None  # DRF's format-suffix duplicates; the plain route is checked
        pattern = pattern.replace("^", "").replace("$", "")
        pattern = re.sub(r"\(\?P<\w+>[^)]*\)", "1", pattern)
        if any(ch in pattern for ch in "()[]*+?\\"):
            return None
    path = re.sub(r"<(?:int:)?\w+>", "1", pattern)
    path = re.sub(r"<(?:str|slug|uuid|path):\w+>", "x", path)
    return "/" + path


def _project_routes():
    seen = set()
    for pattern, name in _walk(get_resolver().url_patterns):
        path = _concrete_path(pattern)
        if path is None or path in seen or path.startswith(("/static/", "/media/")):
            continue
        seen.add(path)
        yield path, name


ALL_ROUTES = sorted(_project_routes())
ROUTES = [(path, name) for path, name in ALL_ROUTES if name not in PUBLIC_URL_NAMES]


def test_route_list_is_not_empty():
    names = {name for _, name in ALL_ROUTES}
    assert "core:home" in names
    assert "enterprises:list" in names


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "name"), ROUTES, ids=[p for p, _ in ROUTES])
def test_anonymous_is_refused(client, path, name):
    response = client.get(path)
    if path.startswith("/api/"):
        assert response.status_code in (401, 403), f"{path} ({name}) answered {response.status_code}"
    elif response.status_code != 405:  # POST-only actions answer 405 to any GET
        assert response.status_code == 302, f"{path} ({name}) answered {response.status_code}"
        assert response["Location"].startswith("/accounts/login/"), (
            f"{path} redirects to {response['Location']}"
        )
