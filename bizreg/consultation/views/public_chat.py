"""public_chat pages (public, no login)."""

urlpatterns: list = []
