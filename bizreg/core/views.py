from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render

from bizreg.core import selectors


@login_required
def home(request):
    return render(request, "core/home.html", {"figures": selectors.home_figures(user=request.user)})


@login_required
@permission_required("core.view_accesslog", raise_exception=True)
def access_log(request):
    page = selectors.access_log_page(user=request.user, params=request.GET)
    return render(request, "core/access_log.html", {"page": page, "params": request.GET})


def bad_request(request, exception=None):
    return render(request, "errors/400.html", status=400)


def permission_denied(request, exception=None):
    return render(request, "errors/403.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "errors/404.html", status=404)


def server_error(request):
    return render(request, "errors/500.html", status=500)
