"""public_kb pages (public, no login)."""

urlpatterns: list = []
