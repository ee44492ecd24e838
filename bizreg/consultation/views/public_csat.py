"""public_csat pages (public, no login)."""

urlpatterns: list = []
