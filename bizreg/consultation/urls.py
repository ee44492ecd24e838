"""Each area module in views/ declares its own `urlpatterns`; the staff pages are joined here under one
namespace. The public pages (views.public_chat, public_kb, public_csat) are mounted under /portal/consult/
(public_urls.py) and the channel endpoints (views.channels) under /hooks/ (hook_urls.py)."""

from bizreg.consultation.views import calls, dashboard, hotline, imports, knowledge, tickets

app_name = "consultation"

urlpatterns: list = [
    *hotline.urlpatterns,
    *calls.urlpatterns,
    *imports.urlpatterns,
    *dashboard.urlpatterns,
    *tickets.urlpatterns,
    *knowledge.urlpatterns,
]
