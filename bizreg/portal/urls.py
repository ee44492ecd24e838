"""Public pages under /portal/. Each area adds its routes in its own block."""

from django.urls import path

from bizreg.portal import views

app_name = "portal"

# --- notice verification (helper "docs") -------------------------------------------------------------
urlpatterns = [
    path("verify/", views.verify_form, name="verify_form"),
    path("verify/<str:code>/", views.verify, name="verify"),
]

# --- progress query (helper "records") ---------------------------------------------------------------
from bizreg.portal import views_progress  # noqa: E402

urlpatterns += [
    path("progress/", views_progress.progress, name="progress"),
]
