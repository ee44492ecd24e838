"""calls pages."""

urlpatterns: list = []
