"""Public pages (no staff login) under /portal/archives/: the e-archive query and full-file application."""

from bizreg.archives.views import public

app_name = "archives_public"

urlpatterns: list = [*public.urlpatterns]
