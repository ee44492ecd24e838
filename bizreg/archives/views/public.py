"""public pages (filled in by the issue-6 work)."""

urlpatterns: list = []
