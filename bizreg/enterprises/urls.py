from django.urls import path

from bizreg.enterprises import views

app_name = "enterprises"

urlpatterns = [
    path("", views.enterprise_list, name="list"),
    path("new/", views.enterprise_create, name="create"),
    path("export/", views.enterprise_export, name="export"),
    path("import/", views.import_upload, name="import"),
    path("import/template/", views.import_template, name="import_template"),
    path("import/<int:job_pk>/", views.import_status, name="import_status"),
    path("import/<int:job_pk>/errors.xlsx", views.import_errors, name="import_errors"),
    path("import/<int:job_pk>/retry/", views.import_retry, name="import_retry"),
    path("uscc-exceptions/", views.uscc_exceptions, name="uscc_exceptions"),
    path("ftz-rules/", views.ftz_rules, name="ftz_rules"),
    path("ftz-rules/new/", views.ftz_rule_create, name="ftz_rule_create"),
    path("ftz-rules/<int:pk>/edit/", views.ftz_rule_edit, name="ftz_rule_edit"),
    path("ftz-rules/recompute/", views.ftz_recompute, name="ftz_recompute"),
    path("<int:pk>/", views.enterprise_detail, name="detail"),
    path("<int:pk>/edit/", views.enterprise_edit, name="edit"),
    path("<int:pk>/lock/", views.enterprise_lock, name="lock"),
    path("<int:pk>/unlock/", views.enterprise_unlock, name="unlock"),
    path("<int:pk>/reveal-id/", views.enterprise_reveal_id, name="reveal_id"),
    path("<int:pk>/reveal-persons/", views.enterprise_reveal_persons, name="reveal_persons"),
]
