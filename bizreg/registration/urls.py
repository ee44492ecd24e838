from django.urls import path  # noqa: F401 — each area appends its routes below

app_name = "registration"

urlpatterns: list = []

# --- records (helper "records"): information entry / guidance records, follow-up of online cases, import -
from bizreg.registration.views import imports as import_views  # noqa: E402
from bizreg.registration.views import records as records_views  # noqa: E402

urlpatterns += [
    path("records/", records_views.records_list, name="records_list"),
    path("records/new/", records_views.record_create, name="record_create"),
    path("records/export/", records_views.records_export, name="records_export"),
    path("records/daily/", records_views.records_daily, name="records_daily"),
    path(
        "records/enterprise-options/",
        records_views.record_enterprise_options,
        name="record_enterprise_options",
    ),
    path("follow-ups/", records_views.follow_up_list, name="follow_up_list"),
    path("follow-ups/export/", records_views.follow_up_export, name="follow_up_export"),
    path("follow-ups/open/<int:case_pk>/", records_views.follow_up_open, name="follow_up_open"),
    path("follow-ups/<int:pk>/", records_views.follow_up_detail, name="follow_up_detail"),
    path("follow-ups/<int:pk>/contact/", records_views.follow_up_contact, name="follow_up_contact"),
    path("follow-ups/<int:pk>/close/", records_views.follow_up_close, name="follow_up_close"),
    path("follow-ups/<int:pk>/assign/", records_views.follow_up_assign, name="follow_up_assign"),
    path(
        "follow-ups/<int:pk>/reveal-phone/",
        records_views.follow_up_reveal_phone,
        name="follow_up_reveal_phone",
    ),
    path("online-import/", import_views.import_upload, name="online_import"),
    path("online-import/template/", import_views.import_template, name="online_import_template"),
    path("online-import/<int:job_pk>/", import_views.import_status, name="online_import_status"),
    path("online-import/<int:job_pk>/errors.xlsx", import_views.import_errors, name="online_import_errors"),
    path("online-import/<int:job_pk>/retry/", import_views.import_retry, name="online_import_retry"),
]

# --- cases (helper "cases"): intake, workflow, statutory clock, extensions -------------------------------
from bizreg.registration.views import cases as cases_views  # noqa: E402

urlpatterns += [
    path("cases/", cases_views.case_list, name="case_list"),
    path("cases/new/", cases_views.case_intake, name="case_intake"),
    path("cases/export/", cases_views.case_export, name="case_export"),
    path("cases/due/", cases_views.case_due, name="case_due"),
    path("cases/enterprise-lookup/", cases_views.case_enterprise_lookup, name="case_enterprise_lookup"),
    path("cases/<int:pk>/", cases_views.case_detail, name="case_detail"),
    path("cases/<int:pk>/timeline/", cases_views.case_timeline, name="case_timeline"),
    path("cases/<int:pk>/reveal/", cases_views.case_reveal, name="case_reveal"),
    path("cases/<int:pk>/materials/", cases_views.case_materials, name="case_materials"),
    path("cases/<int:pk>/action/<str:action>/", cases_views.case_action, name="case_action"),
    path("cases/<int:pk>/extension/", cases_views.case_extension_request, name="case_extension_request"),
    path("extensions/", cases_views.case_extension_queue, name="case_extension_queue"),
    path("extensions/export/", cases_views.case_extension_export, name="case_extension_export"),
    path("extensions/<int:pk>/decide/", cases_views.case_extension_decide, name="case_extension_decide"),
]

# --- documents, licences, mail (helper "docs"): notices, licence stock and printing, mail intake ---------
from bizreg.registration.views import documents as documents_views  # noqa: E402
from bizreg.registration.views import licences as licences_views  # noqa: E402
from bizreg.registration.views import mail as mail_views  # noqa: E402

urlpatterns += [
    path("notices/", documents_views.notice_list, name="notice_list"),
    path("notices/export/", documents_views.notice_export, name="notice_export"),
    path("notices/<int:pk>/pdf/", documents_views.notice_download, name="notice_download"),
    path("cases/<int:case_pk>/documents/", documents_views.case_documents_panel, name="case_documents"),
    path("cases/<int:case_pk>/print-licence/", licences_views.case_print, name="case_print_licence"),
    path("cases/<int:case_pk>/mail-out/", mail_views.mail_outbound, name="mail_outbound"),
    path("licences/", licences_views.licence_stock, name="licence_stock"),
    path("licences/batches/new/", licences_views.batch_create, name="licence_batch_create"),
    path("licences/reorder-level/", licences_views.reorder_level, name="licence_reorder_level"),
    path("licences/sheets/", licences_views.sheet_list, name="licence_sheets"),
    path("licences/sheets/export/", licences_views.sheet_export, name="licence_sheets_export"),
    path("licences/sheets/<int:pk>/spoil/", licences_views.sheet_spoil, name="licence_sheet_spoil"),
    path("licences/sheets/<int:pk>/void/", licences_views.sheet_void, name="licence_sheet_void"),
    path("mail/", mail_views.mail_list, name="mail_list"),
    path("mail/new/", mail_views.mail_create, name="mail_create"),
    path("mail/export/", mail_views.mail_export, name="mail_export"),
    path("mail/<int:pk>/", mail_views.mail_detail, name="mail_detail"),
    path("mail/<int:pk>/handover/", mail_views.mail_handover, name="mail_handover"),
    path("mail/<int:pk>/link-case/", mail_views.mail_link_case, name="mail_link_case"),
]
