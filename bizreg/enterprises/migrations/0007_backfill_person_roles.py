"""Backfill: every enterprise's address key, and one current 法定代表人 person-role per enterprise taken
from legal_rep_name / legal_rep_id_number (started on the establishment date), with its '+' history row.

Set-based SQL for the person-roles (one INSERT … SELECT each, both backends); the address keys need the
Python normalisation (rules.address_key), done in chunks by id.
"""

from django.db import migrations

from bizreg.enterprises.rules import address_key

CHUNK = 5000


def backfill_address_keys(apps, schema_editor):
    Enterprise = apps.get_model("enterprises", "Enterprise")
    db = schema_editor.connection.alias
    last = 0
    while True:
        rows = list(
            Enterprise.objects.using(db)
            .filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "address")[:CHUNK]
        )
        if not rows:
            break
        last = rows[-1][0]
        changed = [Enterprise(pk=pk, address_key=address_key(address)) for pk, address in rows]
        Enterprise.objects.using(db).bulk_update(changed, ["address_key"], batch_size=1000)


def backfill_legal_reps(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO enterprises_enterpriseperson "
            "(created_at, updated_at, enterprise_id, role, name, id_number, phone, address, address_key, "
            "share_ratio, started_on, ended_on, end_reason) "
            "SELECT e.created_at, e.updated_at, e.id, 'legal_rep', e.legal_rep_name, e.legal_rep_id_number, "
            "'', '', '', NULL, e.established_on, NULL, '' "
            "FROM enterprises_enterprise e "
            "WHERE e.legal_rep_id_number <> '' AND NOT EXISTS ("
            "SELECT 1 FROM enterprises_enterpriseperson p WHERE p.enterprise_id = e.id AND p.role = 'legal_rep')"
        )
        cursor.execute(
            "INSERT INTO enterprises_historicalenterpriseperson "
            "(id, created_at, updated_at, enterprise_id, role, name, id_number, phone, address, address_key, "
            "share_ratio, started_on, ended_on, end_reason, history_date, history_change_reason, "
            "history_type, history_user_id) "
            "SELECT p.id, p.created_at, p.updated_at, p.enterprise_id, p.role, p.name, p.id_number, p.phone, "
            "p.address, p.address_key, p.share_ratio, p.started_on, p.ended_on, p.end_reason, p.created_at, "
            "%s, '+', NULL FROM enterprises_enterpriseperson p "
            "WHERE NOT EXISTS (SELECT 1 FROM enterprises_historicalenterpriseperson h WHERE h.id = p.id)",
            ["按登记簿法定代表人补录"],
        )


class Migration(migrations.Migration):
    dependencies = [("enterprises", "0006_person_roles_and_rescission")]

    operations = [
        migrations.RunPython(backfill_address_keys, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(backfill_legal_reps, migrations.RunPython.noop, elidable=True),
    ]
