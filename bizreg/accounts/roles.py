"""The roles of DESIGN.md, each a Django group with its permissions, declared once here.

`sync_roles` creates/updates the groups; it is run by the data migrations of accounts and of every app
that adds permissions a role needs, so the groups always match this table.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_noop


@dataclass(frozen=True)
class Role:
    code: str
    name: str  # the Django group name; Chinese, translated for display only
    description: str
    permissions: tuple[str, ...]


# Read access every staff role has to the shared register.
_STAFF_READ = (
    "enterprises.view_enterprise",
    "enterprises.view_enterpriselock",
    "enterprises.view_ftzaddressrule",
)

# --- registration (issue 3) -------------------------------------------------------------------------
# Reading registration cases and the notices issued for them (who follows up on a case, answers the
# hotline about it, investigates it or archives its file).
_REGISTRATION_READ = (
    "registration.view_registrationcase",
    "registration.view_notice",
    "registration.view_materialrequirement",
)
# The window clerk: intake, pre-review, acceptance, approval (审核合一), notices, licence printing, mail,
# information entry/guidance records and follow-up of failed online applications.
_REGISTRATION_CLERK = _REGISTRATION_READ + (
    "registration.add_registrationcase",
    "registration.change_registrationcase",
    "registration.review_case",
    "registration.approve_case",
    "registration.print_licence",
    "registration.view_caseextension",
    "registration.add_caseextension",
    "registration.add_notice",
    "registration.view_licencebatch",
    "registration.view_licencesheet",
    "registration.change_licencesheet",
    "registration.view_mailpackage",
    "registration.add_mailpackage",
    "registration.change_mailpackage",
    "registration.view_mailhandover",
    "registration.add_mailhandover",
    "registration.view_servicerecord",
    "registration.add_servicerecord",
    "registration.change_servicerecord",
    "registration.view_followuptask",
    "registration.add_followuptask",
    "registration.change_followuptask",
    "registration.view_contactlog",
    "registration.add_contactlog",
)
# The section head: approves extensions, manages licence stock and the materials checklist, reads all.
_REGISTRATION_MANAGER = _REGISTRATION_READ + (
    "registration.approve_extension",
    "registration.view_caseextension",
    "registration.change_caseextension",
    "registration.manage_licence_stock",
    "registration.view_licencebatch",
    "registration.add_licencebatch",
    "registration.view_licencesheet",
    "registration.add_materialrequirement",
    "registration.change_materialrequirement",
    "registration.view_mailpackage",
    "registration.view_mailhandover",
    "registration.view_servicerecord",
    "registration.view_followuptask",
    "registration.view_contactlog",
)

# --- performance (issue 4) --------------------------------------------------------------------------
_PERFORMANCE_READ = tuple(
    f"performance.view_{model}"
    for model in (
        "project",
        "projectcomponent",
        "budgetline",
        "contract",
        "paymentmilestone",
        "payment",
        "indicator",
        "indicatoradjustment",
        "monthlysnapshot",
        "evaluationreport",
    )
) + ("performance.export_budget",)
# The finance & performance officer keeps the budget, contracts, payments and indicators, requests
# adjustments, evaluates indicators and drafts the report; the manager approves and issues.
_PERFORMANCE_OFFICER = (
    _PERFORMANCE_READ
    + tuple(
        f"performance.{action}_{model}"
        for model in (
            "project",
            "projectcomponent",
            "budgetline",
            "contract",
            "paymentmilestone",
            "payment",
            "indicator",
            "evaluationreport",
        )
        for action in ("add", "change")
    )
    + (
        "performance.add_indicatoradjustment",
        "performance.manage_project",
        "performance.import_budget",
        "performance.evaluate_indicator",
    )
)
_PERFORMANCE_MANAGER = _PERFORMANCE_READ + (
    "performance.approve_adjustment",
    "performance.close_project",
    "performance.issue_report",
)

# --- consultation (issue 5) -------------------------------------------------------------------------
_CONSULTATION_READ = tuple(
    f"consultation.view_{model}"
    for model in (
        "hotlinenumber",
        "hotlineline",
        "agent",
        "shift",
        "call",
        "pbximportbatch",
        "contact",
        "slapolicy",
        "ticket",
        "ticketmessage",
        "ticketattachment",
        "article",
        "articleversion",
        "synonym",
        "knowledgegap",
        "answerlog",
    )
)
# The hotline/online agent (contractor): logs and imports calls, works tickets, drafts articles, triages gaps.
_CONSULTATION_AGENT = _CONSULTATION_READ + (
    "consultation.add_call",
    "consultation.change_call",
    "consultation.import_pbx",
    "consultation.add_ticket",
    "consultation.change_ticket",
    "consultation.add_ticketmessage",
    "consultation.add_contact",
    "consultation.change_contact",
    "consultation.add_article",
    "consultation.change_article",
    "consultation.change_knowledgegap",
)
# The section head: the hunt group, agents and shifts, SLAs, assignment and merging, complaint escalation,
# review and publication of articles, synonyms, capacity planning.
_CONSULTATION_MANAGER = _CONSULTATION_READ + (
    "consultation.add_hotlinenumber",
    "consultation.change_hotlinenumber",
    "consultation.add_hotlineline",
    "consultation.change_hotlineline",
    "consultation.add_agent",
    "consultation.change_agent",
    "consultation.add_shift",
    "consultation.change_shift",
    "consultation.delete_shift",
    "consultation.add_slapolicy",
    "consultation.change_slapolicy",
    "consultation.assign_ticket",
    "consultation.merge_ticket",
    "consultation.escalate_complaint",
    "consultation.change_ticket",
    "consultation.review_article",
    "consultation.change_article",
    "consultation.add_synonym",
    "consultation.change_synonym",
    "consultation.delete_synonym",
    "consultation.change_knowledgegap",
    "consultation.plan_capacity",
    "consultation.import_pbx",
)

# --- archives (issue 6) ----------------------------------------------------------------------------------
# Reading the archive: its files, items, shelves and the trail of who used them.
_ARCHIVES_READ = (
    "archives.view_archivefile",
    "archives.view_archiveitem",
    "archives.view_shelflocation",
)
# The archivist: transfer lists, shelving, borrowing, moved-out lookups and merges, public-notice uploads,
# queries at the window; the digitization batches they hand over and receive back.
_ARCHIVIST = _ARCHIVES_READ + (
    "archives.add_archivefile",
    "archives.change_archivefile",
    "archives.add_archiveitem",
    "archives.change_archiveitem",
    "archives.add_shelflocation",
    "archives.change_shelflocation",
    "archives.shelve_archive",
    "archives.move_archive",
    "archives.view_controlled_items",
    "archives.view_transferlist",
    "archives.add_transferlist",
    "archives.change_transferlist",
    "archives.receive_transferlist",
    "archives.view_borrowrequest",
    "archives.add_borrowrequest",
    "archives.lend_archive",
    "archives.view_accessrequest",
    "archives.add_accessrequest",
    "archives.change_accessrequest",
    "archives.view_archiveaccesslog",
    "archives.view_digitizationbatch",
    "archives.view_scanpage",
    "archives.view_fixityrun",
)
# The contractor's digitization operator: the batches and their pages only (scoped to batches in the
# selectors); QA of the contractor's own output is theirs, the sampled check is the archivist's too.
_DIGITIZATION_OPERATOR = (
    "archives.view_digitizationbatch",
    "archives.add_digitizationbatch",
    "archives.change_digitizationbatch",
    "archives.operate_digitization",
    "archives.view_scanpage",
    "archives.change_scanpage",
    "archives.change_archiveitem",
)
# Other departments of the bureau: read-only queries of the e-archive (open and controlled items), every
# view logged; they may ask to borrow.
_ARCHIVES_DEPARTMENT = _ARCHIVES_READ + (
    "archives.view_controlled_items",
    "archives.view_borrowrequest",
    "archives.add_borrowrequest",
)
_ARCHIVES_MANAGER = _ARCHIVES_READ + (
    "archives.view_controlled_items",
    "archives.add_borrowrequest",
    "archives.sign_transferlist",
    "archives.view_transferlist",
    "archives.approve_borrow",
    "archives.view_borrowrequest",
    "archives.approve_accessrequest",
    "archives.view_accessrequest",
    "archives.view_archiveaccesslog",
    "archives.view_digitizationbatch",
    "archives.view_scanpage",
    "archives.qa_digitization",
    "archives.view_fixityrun",
)

# --- investigations (issue 7) ----------------------------------------------------------------------
# Investigators take in reports, accept, investigate, field-check, collect evidence, draft the documents
# and close; the manager approves the one extension and makes the decision. Nobody else sees a case.
_INVESTIGATIONS_READ = tuple(
    f"investigations.view_{model}"
    for model in (
        "investigationcase",
        "report",
        "fieldcheck",
        "evidence",
        "decision",
        "registrationban",
        "casedocument",
        "victimsurvey",
    )
)
_INVESTIGATOR = _INVESTIGATIONS_READ + (
    "investigations.add_investigationcase",
    "investigations.change_investigationcase",
    "investigations.accept_investigationcase",
    "investigations.add_fieldcheck",
    "investigations.add_evidence",
    "investigations.add_casedocument",
)
_INVESTIGATIONS_MANAGER = _INVESTIGATIONS_READ + (
    "investigations.approve_investigation_extension",
    "investigations.decide_investigationcase",
    "investigations.add_casedocument",
)

# --- tracking (issue 8) -----------------------------------------------------------------------------
_TRACKING_READ = (
    "tracking.view_visitplan",
    "tracking.view_visit",
    "tracking.view_appeal",
    "tracking.view_department",
    "tracking.view_questionnaire",
    "tracking.view_planrule",
    "tracking.view_migration",
    "tracking.view_watchentry",
    "tracking.view_businessissue",
    "tracking.view_improvementmeasure",
    "tracking.view_trackingreport",
)
# The enterprise-service officer: visits (own), appeals, watch list, business-environment issues, reports.
_TRACKING_OFFICER = _TRACKING_READ + (
    "tracking.change_visitplan",
    "tracking.add_visit",
    "tracking.change_visit",
    "tracking.add_appeal",
    "tracking.change_appeal",
    "tracking.route_appeal",
    "tracking.close_appeal",
    "tracking.change_watchentry",
    "tracking.add_businessissue",
    "tracking.change_businessissue",
    "tracking.add_improvementmeasure",
    "tracking.change_improvementmeasure",
    "tracking.generate_trackingreport",
)
# The section head: generates and assigns plans, edits the plan rules, the questionnaire and the departments.
_TRACKING_MANAGER = _TRACKING_READ + (
    "tracking.add_visitplan",
    "tracking.assign_visitplan",
    "tracking.change_planrule",
    "tracking.add_questionnaire",
    "tracking.change_questionnaire",
    "tracking.add_department",
    "tracking.change_department",
    "tracking.generate_trackingreport",
)
# A member of a department appeals are routed to: sees and answers only its department's appeals.
_TRACKING_DEPARTMENT = ("tracking.view_appeal", "tracking.answer_appeal")

ROLES: tuple[Role, ...] = (
    Role(
        "registration_clerk",
        gettext_noop("窗口/预审人员"),
        gettext_noop("收件、预审、核准、通知书、执照打印、邮寄收件"),
        _STAFF_READ
        + (
            "enterprises.add_enterprise",
            "enterprises.change_enterprise",
            "enterprises.import_enterprise",
            "enterprises.export_enterprise",
            "enterprises.lock_enterprise",
            "core.view_full_personal_data",
        )
        + _REGISTRATION_CLERK,
    ),
    Role(
        "archivist",
        gettext_noop("档案人员"),
        gettext_noop("移交清单、数字化批次、上架、借阅、迁出档案查找"),
        _STAFF_READ + _REGISTRATION_READ + _ARCHIVIST + ("archives.qa_digitization",),
    ),
    Role(
        "digitization_operator",
        gettext_noop("数字化加工人员"),
        gettext_noop("扫描、图像处理、著录标引、质检（外包）"),
        _DIGITIZATION_OPERATOR,
    ),
    Role(
        "hotline_agent",
        gettext_noop("咨询坐席"),
        gettext_noop("来电、在线工单、投诉、知识库维护"),
        _STAFF_READ + ("registration.view_registrationcase",) + _CONSULTATION_AGENT,
    ),
    Role(
        "investigator",
        gettext_noop("调查人员"),
        gettext_noop("冒用身份案件、实地核查、意见书"),
        _STAFF_READ
        + ("enterprises.lock_enterprise", "core.view_full_personal_data")
        + _REGISTRATION_READ
        + _INVESTIGATOR,
    ),
    Role(
        "enterprise_officer",
        gettext_noop("企业服务专员"),
        gettext_noop("走访、诉求、迁移跟踪、定期报告"),
        _STAFF_READ + ("enterprises.export_enterprise",) + _REGISTRATION_READ + _TRACKING_OFFICER,
    ),
    Role(
        "finance_officer",
        gettext_noop("财务/绩效"),
        gettext_noop("预算、合同、支付、绩效指标、评价报告"),
        _PERFORMANCE_OFFICER,
    ),
    Role(
        "manager",
        gettext_noop("科室负责人"),
        gettext_noop("驾驶舱、审批、调整；其余只读"),
        _STAFF_READ
        + (
            "enterprises.export_enterprise",
            "enterprises.confirm_uscc_exception",
            "enterprises.change_ftzaddressrule",
            "enterprises.add_ftzaddressrule",
            "accounts.view_user",
            "core.view_accesslog",
            "core.view_full_personal_data",
            "core.view_backgroundjob",
        )
        + _REGISTRATION_MANAGER
        + _PERFORMANCE_MANAGER
        + _CONSULTATION_MANAGER
        + _ARCHIVES_MANAGER
        + _INVESTIGATIONS_MANAGER
        + _TRACKING_MANAGER,
    ),
    Role(
        "department_viewer",
        gettext_noop("业务部门查询人员"),
        gettext_noop("其他业务部门：只读查询电子档案、申请借阅；答复转办本部门的企业诉求"),
        _STAFF_READ + _ARCHIVES_DEPARTMENT + _TRACKING_DEPARTMENT,
    ),
)

ROLE_BY_CODE = {role.code: role for role in ROLES}
ROLE_BY_NAME = {role.name: role for role in ROLES}


def role_codes_for(user) -> list[str]:
    names = {g.name for g in user.groups.all()}
    return [role.code for role in ROLES if role.name in names]


def sync_roles(apps=None) -> None:
    """Create each role's group and give it exactly the declared permissions that exist so far."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role.name)
        wanted = []
        for dotted in role.permissions:
            app_label, codename = dotted.split(".", 1)
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm is not None:
                wanted.append(perm)
        group.permissions.set(wanted)


def sync_roles_migration(apps, schema_editor) -> None:
    """RunPython body for any app's migration that adds permissions a role needs.

    Permissions are normally created after all migrations (post_migrate); create them now so the
    groups can be given them in the same migrate run.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_roles(apps)
