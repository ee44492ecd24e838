"""Cases area: the per-day case-number counter, the usual materials checklist of each case type, and the
registration permissions given to the roles (accounts.roles)."""

import django.db.models.deletion
from django.db import migrations, models

from bizreg.accounts.roles import sync_roles_migration

AGENT = ("agent_authorization", "指定代表或者共同委托代理人授权委托书及代理人身份证明", False)
LICENCE_RETURN = ("licence_return", "营业执照正本、副本", True)

# (case_type, [(code, name, mandatory), ...]) in checklist order: the usual materials of 市场主体登记管理条例
# 实施细则 and the Guangdong 商事登记 checklists. Staff adjust them in the admin (申请材料要求).
MATERIALS = [
    (
        "establishment",
        [
            ("application", "公司登记（备案）申请书", True),
            ("articles", "公司章程", True),
            ("shareholder_qualification", "股东主体资格证明或者自然人身份证明", True),
            ("officers_appointment", "法定代表人、董事、监事、经理的任职文件及身份证明", True),
            ("domicile_proof", "住所（经营场所）使用证明", True),
            ("name_declaration", "名称自主申报告知书", True),
            ("liaison_info", "联络员信息及身份证明", True),
            AGENT,
            ("pre_approval", "法律、行政法规规定设立须报经批准的批准文件或者许可证件", False),
        ],
    ),
    (
        "change",
        [
            ("change_application", "公司变更登记申请书", True),
            ("resolution", "股东会决议、股东决定或者董事会决议", True),
            ("articles_amendment", "修改后的公司章程或者章程修正案", True),
            LICENCE_RETURN,
            ("new_domicile_proof", "新住所使用证明（变更住所的）", False),
            ("new_officer_documents", "新任法定代表人的任职文件及身份证明（变更法定代表人的）", False),
            AGENT,
        ],
    ),
    (
        "deregistration",
        [
            ("dereg_application", "公司注销登记申请书", True),
            ("dissolution_resolution", "依法作出解散的决议或者决定，或者被吊销、责令关闭、撤销的文件", True),
            ("liquidation_report", "经确认的清算报告", True),
            ("creditor_notice", "清算组成员备案及债权人公告证明", True),
            ("tax_clearance", "清税证明", True),
            LICENCE_RETURN,
            AGENT,
        ],
    ),
    (
        "simple_deregistration",
        [
            ("simple_dereg_application", "简易注销登记申请书", True),
            ("investor_commitment", "全体投资人承诺书", True),
            ("public_notice", "简易注销公告期满（20 日）无异议的公示证明", True),
            LICENCE_RETURN,
            AGENT,
        ],
    ),
    (
        "filing",
        [
            ("filing_application", "公司备案申请书", True),
            (
                "filing_documents",
                "备案事项的相关文件（章程修正案、董事/监事/经理任职文件、联络员信息、受益所有人信息等）",
                True,
            ),
            AGENT,
        ],
    ),
    (
        "migration_in",
        [
            ("migration_in_application", "公司变更（迁入）登记申请书", True),
            ("migration_letter", "迁出地登记机关出具的迁移调档函及登记档案", True),
            ("migration_resolution", "迁移住所的决议或者决定", True),
            ("new_domicile_proof", "新住所使用证明", True),
            ("articles_amendment", "修改后的公司章程或者章程修正案", True),
            ("licence_return", "原营业执照正本、副本", True),
            AGENT,
        ],
    ),
    (
        "migration_out",
        [
            ("migration_out_application", "企业迁移登记申请书", True),
            ("migration_resolution", "迁移住所的决议或者决定", True),
            ("destination_domicile_proof", "迁入地住所使用证明", True),
            ("destination_consent", "迁入地登记机关同意迁入的意见（需要的）", False),
            AGENT,
        ],
    ),
]


def load_materials(apps, schema_editor):
    MaterialRequirement = apps.get_model("registration", "MaterialRequirement")
    for case_type, items in MATERIALS:
        for order, (code, name, mandatory) in enumerate(items, start=1):
            MaterialRequirement.objects.update_or_create(
                case_type=case_type,
                code=code,
                defaults={"name": name, "mandatory": mandatory, "order": order * 10, "is_active": True},
            )


# Search of the case list: exact applicant name and USCC (both databases); on PostgreSQL a trigram index
# for `enterprise_name__icontains`, which compiles to UPPER(enterprise_name::text) LIKE UPPER(%s).
PLAIN_INDEXES = [
    ("case_applicant_name", "registration_registrationcase", "(authority_id, applicant_name)"),
    ("case_uscc", "registration_registrationcase", "(uscc)"),
]
POSTGRES_INDEXES = [
    (
        "case_ent_name_upper_trgm",
        "registration_registrationcase",
        "USING gin ((UPPER((enterprise_name)::text)) gin_trgm_ops)",
    ),
]


def create_indexes(apps, schema_editor):
    indexes = list(PLAIN_INDEXES)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        indexes += POSTGRES_INDEXES
    for name, table, definition in indexes:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} {definition}")


def drop_indexes(apps, schema_editor):
    names = [name for name, _t, _d in PLAIN_INDEXES]
    if schema_editor.connection.vendor == "postgresql":
        names += [name for name, _t, _d in POSTGRES_INDEXES]
    for name in names:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("accounts", "0004_history_of_roles"),
        ("registration", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="CaseNumberCounter",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField(verbose_name="日期")),
                ("last", models.PositiveIntegerField(default=0, verbose_name="已用序号")),
                (
                    "authority",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, to="core.authority", verbose_name="登记机关"
                    ),
                ),
            ],
            options={"verbose_name": "业务编号计数器", "verbose_name_plural": "业务编号计数器"},
        ),
        migrations.AddConstraint(
            model_name="casenumbercounter",
            constraint=models.UniqueConstraint(fields=("authority", "day"), name="uniq_case_counter_day"),
        ),
        migrations.RunPython(load_materials, migrations.RunPython.noop),
        migrations.RunPython(create_indexes, drop_indexes),
        migrations.RunPython(sync_roles_migration, migrations.RunPython.noop),
    ]
