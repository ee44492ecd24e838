"""What every investigation page shares: the gate that keeps the cases from other roles (and logs each
refusal), the 409 page, and the safe redirect back."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404

from bizreg.core import services as core_services
from bizreg.core.models import AccessLog
from bizreg.core.views import conflict  # noqa: F401 — the pages of this app import it from here

VIEW = "investigations.view_investigationcase"


def _log_refusal(request, object_id: str) -> None:
    core_services.access_log_record(
        user=request.user,
        action=AccessLog.Action.DENIED,
        object_type="investigations.InvestigationCase",
        object_id=object_id or "-",
        fields="冒用身份案件",
        request=request,
    )


def investigation_page(view):
    """Login, then investigators and managers only. A refused attempt (403 for a role without the
    permission, 404 for a case outside the user's authorities) is written to the access log."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        object_id = str(kwargs.get("pk", ""))
        if not request.user.has_perm(VIEW):
            _log_refusal(request, object_id)
            raise PermissionDenied("冒用身份案件仅限调查人员和科室负责人查看。")
        try:
            return view(request, *args, **kwargs)
        except Http404:
            if object_id:
                _log_refusal(request, object_id)
            raise

    return wrapped


def query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("export", None)
    return query.urlencode()
