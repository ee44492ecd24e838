"""Public pages (no staff login): verification of notices. Thin views over registration's selectors.

Every lookup is rate-limited per address in the shared cache; an unknown, malformed or foreign code gets
the same neutral "未找到该文书" answer, so the page cannot be used to learn anything but a notice's own
public facts, and it never shows personal data.
"""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from bizreg.portal import ratelimit
from bizreg.registration.selectors.documents import notice_for_verification
from bizreg.registration.services.documents import CODE_LENGTH, normalize_verification_code

VERIFY_SCOPE = "portal.verify"


def verify_rate() -> ratelimit.Rate:
    return ratelimit.rate_from_settings("PORTAL_VERIFY_RATE_LIMIT", (20, 60))


def _throttled(request):
    rate = verify_rate()
    response = render(
        request,
        "portal/verify_throttled.html",
        {"minutes": max(1, rate.window // 60)},
        status=429,
    )
    response["Retry-After"] = str(rate.window)
    return response


@never_cache
@require_GET
def verify_form(request):
    """The form to type a code; a submitted code goes to its own URL (the one the QR code holds)."""
    raw = request.GET.get("code")
    if raw is not None:
        code = normalize_verification_code(raw)
        if len(code) == CODE_LENGTH:
            return redirect("portal:verify", code=code)
        error = _("请输入文书上印制的 16 位验证码（字母和数字，可含短横线）。")
        return render(request, "portal/verify_form.html", {"error": error, "code": raw[:40]}, status=400)
    return render(request, "portal/verify_form.html", {})


@never_cache
@require_GET
def verify(request, code: str):
    if not ratelimit.allow_request(request, scope=VERIFY_SCOPE, rate=verify_rate()):
        return _throttled(request)
    notice = notice_for_verification(code)
    if notice is None:
        return render(request, "portal/verify_not_found.html", {}, status=404)
    return render(request, "portal/verify_result.html", {"notice": notice})
