from django.db import migrations

from bizreg.accounts.roles import sync_roles_migration

# 广州市南沙区的 3 个街道和 6 个镇（乡级区划代码）。
NANSHA_STREETS = [
    ("440115003", "南沙街道"),
    ("440115004", "珠江街道"),
    ("440115005", "龙穴街道"),
    ("440115100", "万顷沙镇"),
    ("440115101", "横沥镇"),
    ("440115102", "黄阁镇"),
    ("440115103", "东涌镇"),
    ("440115104", "大岗镇"),
    ("440115105", "榄核镇"),
]


def load_streets(apps, schema_editor):
    Street = apps.get_model("enterprises", "Street")
    for code, name in NANSHA_STREETS:
        Street.objects.update_or_create(code=code, defaults={"name": name, "division_code": "440115"})


class Migration(migrations.Migration):
    dependencies = [
        ("enterprises", "0001_initial"),
        ("accounts", "0003_roles"),
    ]

    operations = [
        migrations.RunPython(load_streets, migrations.RunPython.noop),
        migrations.RunPython(sync_roles_migration, migrations.RunPython.noop),
    ]
