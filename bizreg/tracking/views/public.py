"""The portal's appeal query (/portal/appeals/): the enterprise enters its appeal number and the last four
digits of the contact phone and follows the appeal — state, dates, the department handling it, the
department's feedback and the steps so far (labels and dates; never a staff name or the phone).

A wrong suffix and an unknown number get the very same page. Wrong tries are counted per visitor address in
the shared cache (a database table or Redis, so the count holds across workers and nodes); after
TRACKING_PORTAL_APPEAL_FAILURE_LIMIT wrong tries within its window every query from that address is answered
429 until the window has passed, and all look-ups of one address have a ceiling too
(TRACKING_PORTAL_APPEAL_RATE_LIMIT) — as on the registration progress query (portal.views_progress).
"""

from __future__ import annotations

import re

from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from bizreg.portal import ratelimit
from bizreg.tracking.selectors.appeals import PUBLIC_NUMBER_RE, appeal_public, normalize_appeal_number

FAILURE_SCOPE = "tracking.appeal.failures"
LOOKUP_SCOPE = "tracking.appeal"
SUFFIX_RE = re.compile(r"^\d{4}$")


def failure_rate() -> ratelimit.Rate:
    return ratelimit.rate_from_settings("TRACKING_PORTAL_APPEAL_FAILURE_LIMIT", (10, 3600))


def lookup_rate() -> ratelimit.Rate:
    return ratelimit.rate_from_settings("TRACKING_PORTAL_APPEAL_RATE_LIMIT", (60, 60))


def failures_exhausted(ident: str) -> bool:
    return ratelimit.exhausted(scope=FAILURE_SCOPE, ident=ident, rate=failure_rate())


def record_failure(ident: str) -> None:
    """Count one wrong try (a free slot claimed atomically in the database or Redis cache)."""
    ratelimit.allow(scope=FAILURE_SCOPE, ident=ident, rate=failure_rate())


def _throttled(request, rate: ratelimit.Rate):
    minutes = max(1, -(-rate.window // 60))
    response = render(request, "tracking/public/appeal_throttled.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(rate.window)
    return response


@never_cache
@require_GET
def appeal_query(request):
    raw_number = request.GET.get("number")
    raw_suffix = request.GET.get("phone_suffix")
    if raw_number is None and raw_suffix is None:
        return render(request, "tracking/public/appeal_query.html", {})
    number = normalize_appeal_number(raw_number)
    suffix = "".join((raw_suffix or "").split())
    errors = {}
    if not number:
        errors["number"] = "请输入诉求编号。"
    elif not PUBLIC_NUMBER_RE.match(number):
        errors["number"] = "诉求编号为“诉”字加年份和序号（如 诉202600012），请按登记时告知的编号填写。"
    if not SUFFIX_RE.match(suffix):
        errors["phone_suffix"] = "请输入登记诉求时所留联系电话的后 4 位数字。"
    if errors:
        # Malformed input is answered without a look-up, so it neither counts nor tells anything.
        context = {"errors": errors, "number": (raw_number or "")[:20], "phone_suffix": suffix[:4]}
        return render(request, "tracking/public/appeal_query.html", context, status=400)
    ident = ratelimit.client_ip(request)
    if failures_exhausted(ident):
        return _throttled(request, failure_rate())
    if not ratelimit.allow(scope=LOOKUP_SCOPE, ident=ident, rate=lookup_rate()):
        return _throttled(request, lookup_rate())
    found = appeal_public(number=number, phone_suffix=suffix)
    if found is None:
        record_failure(ident)
        context = {"number": number, "phone_suffix": ""}
        return render(request, "tracking/public/appeal_not_found.html", context, status=404)
    return render(request, "tracking/public/appeal_result.html", {"appeal": found})


urlpatterns = [
    path("", appeal_query, name="appeal_query"),
]
