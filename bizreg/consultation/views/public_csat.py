"""The public satisfaction survey (CSAT) after a ticket is closed: the citizen follows the link in the
closing message (its secret token is the only key; no login), picks 1–5 and may leave a comment, once.

An unknown or expired link answers 404 and a link already used 410, each with a page that says so in
plain words; bad input shows the form again (400). Nothing personal about the ticket is shown.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from bizreg.consultation.forms.tickets import CsatForm
from bizreg.consultation.services import tickets as services
from bizreg.portal import ratelimit

SUBMIT_SCOPE = "consultation.csat.submit"


def submit_rate() -> ratelimit.Rate:
    return ratelimit.rate_from_settings("CONSULTATION_CSAT_RATE_LIMIT", (20, 60))


def _unavailable(request, message: str, *, status: int):
    return render(request, "consultation/public/csat_unavailable.html", {"message": message}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def csat(request, token: str):
    try:
        ticket = services.csat_ticket(token)
    except services.CsatUnavailable as exc:
        return _unavailable(request, str(exc), status=404)
    if ticket.csat_score is not None:
        return _unavailable(request, "您已评价过本次服务，感谢您的反馈。", status=410)
    form = CsatForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if not ratelimit.allow_request(request, scope=SUBMIT_SCOPE, rate=submit_rate()):
            form.add_error(None, "提交过于频繁，请稍后再试。")
            status = 429
        elif form.is_valid():
            try:
                ticket = services.ticket_submit_csat(
                    token=token, score=form.cleaned_data["score"], comment=form.cleaned_data["comment"]
                )
            except services.CsatAlreadySubmitted as exc:
                return _unavailable(request, str(exc), status=410)
            except services.CsatUnavailable as exc:
                return _unavailable(request, str(exc), status=404)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                return render(request, "consultation/public/csat_thanks.html", {"ticket": ticket})
    return render(request, "consultation/public/csat.html", {"form": form, "ticket": ticket}, status=status)


urlpatterns: list = [
    path("csat/<str:token>/", csat, name="csat"),
]
