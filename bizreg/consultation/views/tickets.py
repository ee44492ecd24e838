"""tickets pages."""

urlpatterns: list = []
