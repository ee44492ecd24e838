"""Public pages of the e-archive (no staff login), under /portal/archives/:

- lookup: anyone finds an enterprise by USCC or exact name and sees its basic registration record and the
  titles/dates of its OPEN items (never controlled or internal ones); each lookup is a served
  AccessRequest (it counts in the query service rate) and a logged search. Rate-limited per address.
- apply: the enterprise itself and parties with a legal interest apply for the full file (identity,
  purpose, proof); the answer is the reference.
- status: reference + phone → the state of the application, nothing personal beyond the masked name.
  Wrong pairs are counted per address, like the progress query, so references cannot be enumerated.
- grant: the applicant's time-limited viewer of the granted archive, and watermarked downloads. Every view
  and download is logged; anything outside the grant is 403 and logged as refused.

See services.access for why the grant link is never shown on the status page.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from bizreg.archives.forms_access import ApplicationForm, StatusForm
from bizreg.archives.selectors import access as selectors
from bizreg.archives.services import access as services
from bizreg.portal import ratelimit

LOOKUP_SCOPE = "archives.lookup"
APPLY_SCOPE = "archives.apply"
STATUS_FAILURE_SCOPE = "archives.status.failures"
QUERY_MAX = 200


def lookup_rate() -> ratelimit.Rate:
    return ratelimit.rate_from_settings("ARCHIVES_PORTAL_LOOKUP_RATE_LIMIT", (30, 60))


def apply_rate() -> ratelimit.Rate:
    return ratelimit.rate_from_settings("ARCHIVES_PORTAL_APPLY_RATE_LIMIT", (10, 3600))


def status_failure_rate() -> ratelimit.Rate:
    return ratelimit.rate_from_settings("ARCHIVES_PORTAL_STATUS_FAILURE_LIMIT", (20, 3600))


def _throttled(request, rate: ratelimit.Rate):
    minutes = max(1, -(-rate.window // 60))
    response = render(request, "archives/public/throttled.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(rate.window)
    return response


# --- lookup ----------------------------------------------------------------------------------------------


@never_cache
@require_GET
def lookup(request):
    raw = request.GET.get("q")
    if raw is None:
        return render(request, "archives/public/lookup.html", {})
    query = " ".join(raw.split())
    if not query:
        return render(
            request,
            "archives/public/lookup.html",
            {"error": _("请输入统一社会信用代码或企业全称。")},
            status=400,
        )
    if len(query) > QUERY_MAX:
        return render(
            request,
            "archives/public/lookup.html",
            {"error": _("查询内容过长。"), "q": query[:QUERY_MAX]},
            status=400,
        )
    if not ratelimit.allow_request(request, scope=LOOKUP_SCOPE, rate=lookup_rate()):
        return _throttled(request, lookup_rate())
    records = selectors.public_records(query)
    for record in records:
        services.portal_lookup_record(record=record, query=query, request=request)
    return render(request, "archives/public/lookup.html", {"q": query, "records": records, "searched": True})


# --- apply -----------------------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def apply(request):
    initial = {"uscc": request.GET.get("uscc", "")[:18]}
    form = ApplicationForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST":
        if not ratelimit.allow_request(request, scope=APPLY_SCOPE, rate=apply_rate()):
            return _throttled(request, apply_rate())
        if form.is_valid():
            upload = form.cleaned_data["proof"]
            data = upload.read(services.MAX_PROOF_BYTES + 1)
            try:
                access = services.application_submit(
                    requester_kind=form.cleaned_data["requester_kind"],
                    applicant_name=form.cleaned_data["applicant_name"],
                    applicant_id_number=form.cleaned_data["applicant_id_number"],
                    applicant_phone=form.cleaned_data["applicant_phone"],
                    organization=form.cleaned_data["organization"],
                    purpose=form.cleaned_data["purpose"],
                    uscc=form.cleaned_data["uscc"],
                    proof_name=upload.name,
                    proof_data=data,
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                return render(request, "archives/public/applied.html", {"access": access})
        return render(request, "archives/public/apply.html", {"form": form}, status=400)
    return render(request, "archives/public/apply.html", {"form": form})


# --- status ----------------------------------------------------------------------------------------------


def _failures_exhausted(ident: str) -> bool:
    return ratelimit.exhausted(scope=STATUS_FAILURE_SCOPE, ident=ident, rate=status_failure_rate())


def _record_failure(ident: str) -> None:
    ratelimit.allow(scope=STATUS_FAILURE_SCOPE, ident=ident, rate=status_failure_rate())


@never_cache
@require_http_methods(["GET", "POST"])
def status(request):
    """POST, so the phone number never lands in a URL (server logs, browser history); the answer page
    does not echo the phone back either."""
    if request.method == "GET":
        return render(request, "archives/public/status.html", {"form": StatusForm()})
    form = StatusForm(request.POST)
    if not form.is_valid():
        return render(request, "archives/public/status.html", {"form": form}, status=400)
    ident = ratelimit.client_ip(request)
    if _failures_exhausted(ident):
        return _throttled(request, status_failure_rate())
    found = selectors.applicant_status(
        reference=form.cleaned_data["reference"], phone=form.cleaned_data["phone"]
    )
    blank = StatusForm(initial={"reference": form.cleaned_data["reference"]})
    if found is None:
        _record_failure(ident)
        return render(request, "archives/public/status.html", {"form": blank, "not_found": True}, status=404)
    return render(request, "archives/public/status.html", {"form": blank, "status": found})


# --- the grant viewer ------------------------------------------------------------------------------------


def _refused(request, refusal: services.GrantRefused):
    services.grant_denied(refusal=refusal, request=request)
    return render(
        request,
        "archives/public/grant_refused.html",
        {"message": refusal.message, "expired": refusal.expired},
        status=403,
    )


@never_cache
@require_GET
def grant(request, token: str):
    try:
        access = services.grant_resolve(token=token)
    except services.GrantRefused as refusal:
        return _refused(request, refusal)
    services.grant_log_view(access_request=access, request=request)
    items = list(selectors.grant_items(access))
    return render(
        request,
        "archives/public/grant.html",
        {"access": access, "items": items, "token": token, "holder": services.grant_holder(access)},
    )


@never_cache
@require_GET
def grant_item(request, token: str, item_id: int):
    try:
        access = services.grant_resolve(token=token)
        item = services.grant_item(access_request=access, item_id=item_id)
    except services.GrantRefused as refusal:
        return _refused(request, refusal)
    try:
        data, _text = services.watermarked_copy(
            item=item, who=services.grant_holder(access), access_request=access, request=request
        )
    except ValidationError as exc:
        return render(
            request, "archives/public/grant_refused.html", {"message": " ".join(exc.messages)}, status=404
        )
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{item.archival_code}.pdf"
    )
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns: list = [
    path("", lookup, name="lookup"),
    path("apply/", apply, name="apply"),
    path("status/", status, name="status"),
    path("grant/<str:token>/", grant, name="grant"),
    path("grant/<str:token>/items/<int:item_id>/", grant_item, name="grant_item"),
]
