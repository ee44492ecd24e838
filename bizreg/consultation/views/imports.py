"""imports pages."""

urlpatterns: list = []
