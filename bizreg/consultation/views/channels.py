"""channels pages."""

urlpatterns: list = []
