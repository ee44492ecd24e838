"""budget pages (being written)."""

urlpatterns: list = []
