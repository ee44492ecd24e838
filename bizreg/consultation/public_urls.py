"""Public pages (no login) under /portal/consult/: the portal chat, the public knowledge base, CSAT."""

from bizreg.consultation.views import public_chat, public_csat, public_kb

app_name = "consult_public"

urlpatterns: list = [*public_chat.urlpatterns, *public_kb.urlpatterns, *public_csat.urlpatterns]
