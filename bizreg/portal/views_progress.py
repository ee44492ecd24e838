"""Public progress query (办理进度查询): case number + last four digits of the applicant's phone.

The answer is the case's status and its dates, nothing else — never a name, an ID number or a phone.
A wrong phone suffix and an unknown case number get the very same page, so the query cannot tell which
numbers exist. Wrong tries are counted per visitor address in the shared cache (settings.CACHES: a
database table or Redis, so the count holds across gunicorn workers and nodes): after
PORTAL_PROGRESS_FAILURE_LIMIT wrong tries within its window, every query from that address is answered
429 until the window has passed — right or wrong, so the throttled answer leaks nothing either.
"""

from __future__ import annotations

import re

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from bizreg.portal import ratelimit
from bizreg.registration.selectors.records import case_progress, normalize_case_number

FAILURE_SCOPE = "portal.progress.failures"
LOOKUP_SCOPE = "portal.progress"
NUMBER_RE = re.compile(r"^[0-9A-Z-]{6,30}$")
SUFFIX_RE = re.compile(r"^\d{4}$")


def failure_rate() -> ratelimit.Rate:
    return ratelimit.rate_from_settings("PORTAL_PROGRESS_FAILURE_LIMIT", (20, 3600))


def lookup_rate() -> ratelimit.Rate:
    """All lookups of one address, right or wrong: a generous ceiling against scripted scraping."""
    return ratelimit.rate_from_settings("PORTAL_PROGRESS_RATE_LIMIT", (60, 60))


def failures_exhausted(ident: str) -> bool:
    return ratelimit.exhausted(scope=FAILURE_SCOPE, ident=ident, rate=failure_rate())


def record_failure(ident: str) -> None:
    """Count one wrong try (a free slot claimed atomically in the database or Redis cache)."""
    ratelimit.allow(scope=FAILURE_SCOPE, ident=ident, rate=failure_rate())


def _throttled(request, rate: ratelimit.Rate):
    minutes = max(1, -(-rate.window // 60))
    response = render(request, "portal/progress_throttled.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(rate.window)
    return response


@never_cache
@require_GET
def progress(request):
    raw_number = request.GET.get("number")
    raw_suffix = request.GET.get("phone_suffix")
    if raw_number is None and raw_suffix is None:
        return render(request, "portal/progress_form.html", {})
    number = normalize_case_number(raw_number)
    suffix = "".join((raw_suffix or "").split())
    errors = {}
    if not number:
        errors["number"] = _("请输入业务编号。")
    elif not NUMBER_RE.match(number):
        errors["number"] = _("业务编号应为受理通知书上印制的编号（数字和字母）。")
    if not SUFFIX_RE.match(suffix):
        errors["phone_suffix"] = _("请输入申请人手机号码的后 4 位数字。")
    if errors:
        # Malformed input is answered without a lookup, so it neither counts nor tells anything.
        context = {"errors": errors, "number": (raw_number or "")[:40], "phone_suffix": suffix[:4]}
        return render(request, "portal/progress_form.html", context, status=400)
    ident = ratelimit.client_ip(request)
    if failures_exhausted(ident):
        return _throttled(request, failure_rate())
    if not ratelimit.allow(scope=LOOKUP_SCOPE, ident=ident, rate=lookup_rate()):
        return _throttled(request, lookup_rate())
    found = case_progress(number=number, phone_suffix=suffix)
    if found is None:
        record_failure(ident)
        return render(request, "portal/progress_not_found.html", {}, status=404)
    return render(request, "portal/progress_result.html", {"progress": found})
