from bizreg.investigations.views import public

app_name = "investigations_public"

urlpatterns: list = [*public.urlpatterns]
