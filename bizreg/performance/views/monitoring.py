"""monitoring pages (being written)."""

urlpatterns: list = []
