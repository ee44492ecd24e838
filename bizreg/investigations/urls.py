"""Each page module in views/ declares its own `urlpatterns`; the staff pages are joined here under one
namespace. The public pages (views.public) are mounted under /portal/investigations/ (public_urls.py)."""

from bizreg.investigations.views import cases, links, work

app_name = "investigations"

urlpatterns: list = [*cases.urlpatterns, *work.urlpatterns, *links.urlpatterns]
