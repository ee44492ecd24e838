"""Each area module in views/ declares its own `urlpatterns`; the staff pages are joined here under one
namespace. The public pages (views.public: the e-archive query on the portal) are mounted under
/portal/archives/ (public_urls.py)."""

from bizreg.archives.views import access, borrowing, digitization, records, search, transfers

app_name = "archives"

urlpatterns: list = [
    *records.urlpatterns,
    *transfers.urlpatterns,
    *borrowing.urlpatterns,
    *access.urlpatterns,
    *digitization.urlpatterns,
    *search.urlpatterns,
]
