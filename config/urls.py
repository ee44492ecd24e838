from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from bizreg.core import api_router

admin.site.site_header = "bizreg 商事登记运行与绩效平台 · 管理后台"
admin.site.site_title = "bizreg 管理后台"

urlpatterns = [
    path("", include("bizreg.core.urls")),
    path("accounts/", include("bizreg.accounts.urls")),
    path("enterprises/", include("bizreg.enterprises.urls")),
    path("registration/", include("bizreg.registration.urls")),
    path("performance/", include("bizreg.performance.urls")),
    path("consultation/", include("bizreg.consultation.urls")),
    path("portal/consult/", include("bizreg.consultation.public_urls")),
    path("hooks/", include("bizreg.consultation.hook_urls")),
    path("archives/", include("bizreg.archives.urls")),
    path("portal/archives/", include("bizreg.archives.public_urls")),
    path("investigations/", include("bizreg.investigations.urls")),
    path("portal/investigations/", include("bizreg.investigations.public_urls")),
    path("tracking/", include("bizreg.tracking.urls")),
    path("portal/appeals/", include("bizreg.tracking.public_urls")),
    path("portal/", include("bizreg.portal.urls")),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("api/", include(api_router.urls())),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
]

handler400 = "bizreg.core.views.bad_request"
handler403 = "bizreg.core.views.permission_denied"
handler404 = "bizreg.core.views.page_not_found"
handler500 = "bizreg.core.views.server_error"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
