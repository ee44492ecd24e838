"""knowledge pages."""

urlpatterns: list = []
