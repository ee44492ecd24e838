"""Public pages under /portal/investigations/: the victim's own application (实施细则 art. 51) and the
satisfaction survey after closing. Both rate-limited per address; neither shows anyone's personal data."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from bizreg.core.selectors import portal_authority
from bizreg.investigations.forms import PublicReportForm, SurveyForm, parse_enterprise_lines
from bizreg.investigations.models import ReportSource, VerificationResult
from bizreg.investigations.selectors import cases as selectors
from bizreg.investigations.services import intake as intake_services
from bizreg.investigations.services import survey as survey_services
from bizreg.portal import ratelimit

REPORT_SCOPE = "investigations.report"
SURVEY_SCOPE = "investigations.survey"


def report_rate() -> ratelimit.Rate:
    return ratelimit.rate_from_settings("INVESTIGATIONS_PORTAL_REPORT_RATE_LIMIT", (5, 3600))


def survey_rate() -> ratelimit.Rate:
    return ratelimit.rate_from_settings("INVESTIGATIONS_PORTAL_SURVEY_RATE_LIMIT", (30, 3600))


def _throttled(request, rate: ratelimit.Rate):
    minutes = max(1, -(-rate.window // 60))
    response = render(request, "investigations/public/throttled.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(rate.window)
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def report(request):
    authority = portal_authority(request.GET.get("authority"))
    if authority is None:
        raise Http404("没有找到该登记机关。")
    form = PublicReportForm(request.POST or None)
    if request.method == "POST":
        if not ratelimit.allow_request(request, scope=REPORT_SCOPE, rate=report_rate()):
            return _throttled(request, report_rate())
        if form.is_valid():
            data = form.cleaned_data
            try:
                received = intake_services.report_receive(
                    authority=authority,
                    source=ReportSource.VICTIM,
                    reporter={
                        "name": data["reporter_name"],
                        "id_number": data["reporter_id_number"].strip().upper(),
                        "phone": data["reporter_phone"],
                    },
                    verification_method=data["verification_method"],
                    # Online verification and the window check are confirmed by staff before acceptance.
                    verification_result=VerificationResult.PENDING,
                    narrative=data["narrative"],
                    enterprises=parse_enterprise_lines(data["enterprises"]),
                    actor=None,
                    via_portal=True,
                )
            except ValidationError as exc:
                messages = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
                for field, texts in messages.items():
                    for text in texts:
                        form.add_error(field if field in form.fields else None, text)
            else:
                return render(
                    request,
                    "investigations/public/report_done.html",
                    {
                        "number": received.case.number,
                        "due": received.case.acceptance_due_on,
                        "method": received.get_verification_method_display(),
                    },
                )
    status = 400 if request.method == "POST" else 200
    return render(request, "investigations/public/report_form.html", {"form": form}, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def survey(request, token: str):
    if not ratelimit.allow_request(request, scope=SURVEY_SCOPE, rate=survey_rate()):
        return _throttled(request, survey_rate())
    found = selectors.survey_by_token(token)
    if found is None:
        raise Http404("问卷链接无效。")
    if found.answered_at:
        return render(request, "investigations/public/survey_done.html", {"survey": found, "again": True})
    form = SurveyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            answered = survey_services.survey_answer(token=token, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return render(request, "investigations/public/survey_done.html", {"survey": answered})
    status = 400 if request.method == "POST" else 200
    return render(
        request, "investigations/public/survey_form.html", {"form": form, "survey": found}, status=status
    )


urlpatterns = [
    path("report/", report, name="report"),
    path("survey/<str:token>/", survey, name="survey"),
]
