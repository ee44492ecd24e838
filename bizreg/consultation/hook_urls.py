"""Channel endpoints under /hooks/: the WeChat official account and the signed generic webhook."""

from bizreg.consultation.views import channels

app_name = "consult_hooks"

urlpatterns: list = [*channels.urlpatterns]
