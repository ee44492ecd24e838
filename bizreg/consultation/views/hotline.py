"""hotline pages."""

urlpatterns: list = []
