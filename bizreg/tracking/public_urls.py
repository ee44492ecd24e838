"""Portal pages under /portal/appeals/: an enterprise follows its appeal (诉求) by number and phone suffix."""

from bizreg.tracking.views import public

app_name = "tracking_public"

urlpatterns = public.urlpatterns
