"""URL conf for the error-page tests: views that fail the way real pages can."""

from django.core.exceptions import SuspiciousOperation
from django.urls import include, path


def boom(request):
    raise RuntimeError("数据库连接失败（测试）")


def suspicious(request):
    raise SuspiciousOperation("bad input")


urlpatterns = [
    path("boom/", boom),
    path("suspicious/", suspicious),
    path("", include("config.urls")),
]

handler400 = "bizreg.core.views.bad_request"
handler403 = "bizreg.core.views.permission_denied"
handler404 = "bizreg.core.views.page_not_found"
handler500 = "bizreg.core.views.server_error"
