"""indicators pages (being written)."""

urlpatterns: list = []
