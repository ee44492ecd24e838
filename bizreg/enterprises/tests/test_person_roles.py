"""The register's person-roles, the legal representative kept in step, and revocation (撤销登记)."""

from __future__ import annotations

import datetime as dt
import importlib
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from bizreg.core.identifiers import build_resident_id
from bizreg.core.models import AccessLog
from bizreg.enterprises import selectors, services
from bizreg.enterprises.models import (
    EnterprisePerson,
    EnterpriseStatus,
    PersonRole,
    RegistrationRescission,
)
from bizreg.testing import factories

pytestmark = pytest.mark.django_db

ZHANG = build_resident_id("440115", dt.date(1975, 2, 3), 211)
WANG = build_resident_id("440106", dt.date(1988, 7, 9), 342)
LI_NEW = build_resident_id("440103", dt.date(1990, 1, 20), 455)


def current(enterprise, role=None):
    qs = EnterprisePerson.objects.filter(enterprise=enterprise, ended_on__isnull=True)
    return list(qs.filter(role=role) if role else qs)


def add(enterprise, actor, **overrides):
    data = {
        "role": PersonRole.SHAREHOLDER,
        "name": "张伟",
        "id_number": ZHANG,
        "phone": "138 0013 8000",
        "address": "广州市南沙区进港大道 88 号",
        "share_ratio": "60",
        "started_on": dt.date(2021, 5, 8),
    }
    data.update(overrides)
    return services.enterprise_person_add(enterprise=enterprise, actor=actor, **data)


# --- the legal representative follows the register entry ------------------------------------------------


def test_create_records_the_legal_representative(create, clerk):
    enterprise = create()
    (rep,) = current(enterprise, PersonRole.LEGAL_REP)
    assert (rep.name, rep.id_number) == (enterprise.legal_rep_name, enterprise.legal_rep_id_number)
    assert rep.started_on == enterprise.established_on
    assert rep.history.get().history_user == clerk


def test_new_legal_representative_ends_the_old_role(create, clerk):
    enterprise = create()
    services.enterprise_update(
        enterprise=enterprise, actor=clerk, legal_rep_name="王芳", legal_rep_id_number=LI_NEW
    )
    reps = EnterprisePerson.objects.filter(enterprise=enterprise, role=PersonRole.LEGAL_REP)
    old = reps.get(ended_on__isnull=False)
    new = reps.get(ended_on__isnull=True)
    assert old.name == "李明" and old.ended_on == timezone.localdate()
    assert (new.name, new.id_number, new.started_on) == ("王芳", LI_NEW, timezone.localdate())


def test_corrected_name_of_the_same_person_keeps_one_role(create, clerk):
    enterprise = create()
    services.enterprise_update(enterprise=enterprise, actor=clerk, legal_rep_name="李明华")
    (rep,) = EnterprisePerson.objects.filter(enterprise=enterprise, role=PersonRole.LEGAL_REP)
    assert rep.name == "李明华" and rep.ended_on is None


def test_status_rescinded_cannot_be_set_by_an_edit(create, clerk, entry, authority):
    enterprise = create()
    with pytest.raises(ValidationError) as exc:
        services.enterprise_update(enterprise=enterprise, actor=clerk, status=EnterpriseStatus.RESCINDED)
    assert "撤销决定" in exc.value.message_dict["status"][0]
    with pytest.raises(ValidationError):
        services.enterprise_create(actor=clerk, authority=authority, **entry(status="rescinded"))


def test_address_key_joins_spellings_of_one_place(create):
    a = create(address="广州市南沙区进港大道８８号（自编１号）")
    b = create(address="广州市南沙区 进港大道 88 号 自编1号")
    assert a.address_key == b.address_key == "广州市南沙区进港大道88号自编1号"


def test_backfill_migration_adds_a_legal_rep_per_enterprise(authority):
    enterprise = factories.EnterpriseFactory(authority=authority, legal_rep_name="赵六")
    EnterprisePerson.objects.filter(enterprise=enterprise).delete()
    migration = importlib.import_module("bizreg.enterprises.migrations.0007_backfill_person_roles")
    from django.apps import apps

    migration.backfill_legal_reps(apps, SimpleNamespace(connection=connection))
    migration.backfill_legal_reps(apps, SimpleNamespace(connection=connection))  # idempotent
    (rep,) = EnterprisePerson.objects.filter(enterprise=enterprise)
    assert (rep.role, rep.name, rep.id_number) == ("legal_rep", "赵六", enterprise.legal_rep_id_number)
    assert rep.started_on == enterprise.established_on and rep.history.count() == 1


# --- adding and ending person-roles ---------------------------------------------------------------------


def test_add_shareholder_normalises_phone_and_address(create, clerk):
    enterprise = create()
    person = add(enterprise, clerk, address="广州市南沙区进港大道８８号")
    assert person.phone == "13800138000"
    assert person.share_ratio == Decimal("60.00")
    assert person.address_key == "广州市南沙区进港大道88号"
    assert person.history.get().history_user == clerk


@pytest.mark.parametrize(
    "overrides, field, words",
    [
        ({"id_number": "440115198001011234"}, "id_number", "校验码"),
        ({"id_number": ""}, "id_number", "请填写"),
        ({"role": "legal_rep"}, "role", "变更登记"),
        ({"role": "boss"}, "role", "无效"),
        ({"name": " "}, "name", "请填写姓名"),
        ({"role": "supervisor"}, "share_ratio", "只有股东"),
        ({"share_ratio": "120"}, "share_ratio", "不超过 100"),
        ({"share_ratio": "abc"}, "share_ratio", "数字"),
        ({"phone": "12-34"}, "phone", "7–15"),
        ({"started_on": dt.date(2001, 1, 1)}, "started_on", "不能早于"),
        ({"started_on": timezone.localdate() + dt.timedelta(days=3)}, "started_on", "不能晚于今天"),
        ({"started_on": "2021-13-01"}, "started_on", "有效日期"),
    ],
)
def test_add_refuses_bad_input(create, clerk, overrides, field, words):
    enterprise = create()
    with pytest.raises(ValidationError) as exc:
        add(enterprise, clerk, **overrides)
    assert words in " ".join(exc.value.message_dict[field])
    assert EnterprisePerson.objects.filter(enterprise=enterprise).count() == 1  # the legal rep only


def test_add_refuses_the_same_current_role_twice(create, clerk):
    enterprise = create()
    add(enterprise, clerk)
    with pytest.raises(ValidationError) as exc:
        add(enterprise, clerk, share_ratio="10")
    assert "已是本企业现任股东" in exc.value.message_dict["id_number"][0]


def test_add_on_a_locked_enterprise_only_for_its_case(create, clerk, investigator):
    enterprise = create()
    services.enterprise_lock(
        enterprise=enterprise, actor=investigator, reason="冒用身份", case_reference="MY-1"
    )
    with pytest.raises(services.EnterpriseLockedError):
        add(enterprise, clerk)
    assert add(enterprise, clerk, case_reference="MY-1").pk


def test_end_a_role(create, clerk):
    enterprise = create()
    person = add(enterprise, clerk, role=PersonRole.SUPERVISOR, share_ratio=None)
    services.enterprise_person_end(person=person, actor=clerk, ended_on=dt.date(2023, 6, 1), reason="辞任")
    person.refresh_from_db()
    assert (person.ended_on, person.end_reason) == (dt.date(2023, 6, 1), "辞任")
    with pytest.raises(services.EnterpriseError, match="已于 2023-06-01 终止"):
        services.enterprise_person_end(person=person, actor=clerk)


def test_end_refuses_legal_rep_and_bad_dates(create, clerk):
    enterprise = create()
    (rep,) = current(enterprise, PersonRole.LEGAL_REP)
    with pytest.raises(services.EnterpriseError, match="变更登记"):
        services.enterprise_person_end(person=rep, actor=clerk)
    person = add(enterprise, clerk)
    with pytest.raises(ValidationError) as exc:
        services.enterprise_person_end(person=person, actor=clerk, ended_on=dt.date(2020, 1, 1))
    assert "不能早于" in exc.value.message_dict["ended_on"][0]
    assert current(enterprise, PersonRole.SHAREHOLDER)


# --- revocation -----------------------------------------------------------------------------------------


def rescind(enterprise, actor, **overrides):
    data = {
        "scope": "all",
        "items": [],
        "decision_reference": "穗南市监撤字〔2023〕12号",
        "decided_on": dt.date(2023, 9, 1),
        "reason": "冒用他人身份信息取得登记",
    }
    data.update(overrides)
    return services.enterprise_rescind(enterprise=enterprise, actor=actor, **data)


def test_rescind_all_revokes_the_registration_and_releases_the_lock(create, investigator):
    enterprise = create()
    services.enterprise_lock(
        enterprise=enterprise, actor=investigator, reason="调查中", case_reference="MY-9"
    )
    record = rescind(enterprise, investigator)
    enterprise.refresh_from_db()
    assert enterprise.status == EnterpriseStatus.RESCINDED
    assert enterprise.get_status_display() == "撤销登记"
    assert enterprise.status_changed_on == dt.date(2023, 9, 1)
    lock = enterprise.locks.get()
    assert lock.released_at is not None and "穗南市监撤字〔2023〕12号" in lock.release_reason
    assert (record.scope, record.actor, record.items) == ("all", investigator, ["撤销全部登记"])
    latest = enterprise.history.latest()
    assert latest.history_user == investigator and "撤销登记" in latest.history_change_reason


def test_rescinding_twice_is_refused(create, investigator):
    enterprise = create()
    rescind(enterprise, investigator)
    with pytest.raises(services.EnterpriseError, match="已于 2023-09-01 被撤销登记"):
        rescind(enterprise, investigator, decision_reference="另一文号")
    with pytest.raises(services.EnterpriseError):
        rescind(enterprise, investigator, scope="items", items=["legal_rep"])
    assert RegistrationRescission.objects.count() == 1


def test_rescind_items_ends_the_named_person_roles(create, clerk, investigator):
    enterprise = create()
    shareholder = add(enterprise, clerk)
    other = add(enterprise, clerk, name="王五", id_number=WANG, share_ratio="40")
    record = rescind(
        enterprise, investigator, scope="items", items=["legal_rep", f"person:{shareholder.pk}", "address"]
    )
    enterprise.refresh_from_db()
    assert enterprise.status == EnterpriseStatus.ACTIVE
    assert not current(enterprise, PersonRole.LEGAL_REP)
    shareholder.refresh_from_db()
    assert shareholder.ended_on == dt.date(2023, 9, 1)
    assert "穗南市监撤字〔2023〕12号" in shareholder.end_reason
    assert shareholder.history.latest().history_user == investigator
    other.refresh_from_db()
    assert other.ended_on is None
    assert record.items == ["法定代表人 李明", "股东 张伟", "住所"]


@pytest.mark.parametrize(
    "overrides, field, words",
    [
        ({"scope": "some"}, "scope", "撤销范围"),
        ({"scope": "items", "items": []}, "items", "列明"),
        ({"scope": "all", "items": ["legal_rep"]}, "items", "不应再列举"),
        ({"scope": "items", "items": ["person:999999"]}, "items", "不是本企业现任"),
        ({"scope": "items", "items": ["director"]}, "items", "没有现任董事"),
        ({"scope": "items", "items": ["colour"]}, "items", "不是可撤销"),
        ({"decision_reference": "  "}, "decision_reference", "文号"),
        ({"reason": ""}, "reason", "撤销理由"),
        ({"decided_on": None}, "decided_on", "请填写决定日期"),
        ({"decided_on": timezone.localdate() + dt.timedelta(days=1)}, "decided_on", "不能晚于今天"),
        ({"decided_on": dt.date(2020, 1, 1)}, "decided_on", "不能早于"),
    ],
)
def test_rescind_refuses_bad_input(create, investigator, overrides, field, words):
    enterprise = create()
    with pytest.raises(ValidationError) as exc:
        rescind(enterprise, investigator, **overrides)
    assert words in " ".join(exc.value.message_dict[field])
    enterprise.refresh_from_db()
    assert enterprise.status == EnterpriseStatus.ACTIVE
    assert current(enterprise, PersonRole.LEGAL_REP)
    assert not RegistrationRescission.objects.exists()


# --- reads ----------------------------------------------------------------------------------------------


def test_person_roles_by_id_phone_and_address(create, clerk, other_enterprise):
    a = create()
    b = create()
    add(a, clerk)
    add(
        b,
        clerk,
        role=PersonRole.LIAISON,
        share_ratio=None,
        phone="+86 13800138000",
        address="广州市南沙区进港大道88号",
    )
    EnterprisePerson.objects.create(
        enterprise=other_enterprise,
        role="shareholder",
        name="张伟",
        id_number=ZHANG,
        started_on=dt.date(2020, 1, 1),
    )
    assert {p.enterprise for p in selectors.person_roles_by_id_number(id_number=ZHANG, user=clerk)} == {a, b}
    assert selectors.person_roles_by_id_number(id_number=ZHANG).count() == 3  # unscoped
    assert selectors.person_roles_by_phone(phone="138-0013-8000", user=clerk).count() == 2
    assert selectors.person_roles_by_address(address="广州市南沙区 进港大道８８号", user=clerk).count() == 2
    assert not selectors.person_roles_by_phone(phone="", user=clerk).exists()


def test_person_roles_masked_unless_full_and_permitted(create, clerk, make_user):
    enterprise = create()
    add(enterprise, clerk)
    masked = selectors.enterprise_persons(enterprise=enterprise, user=clerk)
    assert [p.role for p in masked] == ["legal_rep", "shareholder"]
    assert masked[1].id_number == ZHANG[:4] + "**********" + ZHANG[-4:]
    assert masked[1].phone == "138****8000"
    assert selectors.enterprise_persons(enterprise=enterprise, user=clerk, full=True)[1].id_number == ZHANG
    nobody = make_user(role=None)
    assert selectors.enterprise_persons(enterprise=enterprise, user=nobody, full=True)[1].id_number != ZHANG


# --- the enterprise page --------------------------------------------------------------------------------


def test_detail_page_shows_masked_person_roles_and_the_rescission(client_for, create, clerk, investigator):
    enterprise = create()
    add(enterprise, clerk)
    rescind(enterprise, investigator, scope="items", items=["shareholder"])
    html = client_for(clerk).get(f"/enterprises/{enterprise.pk}/").content.decode()
    assert 'data-testid="person-roles"' in html
    assert "股东" in html and "张伟" in html
    assert ZHANG not in html and "13800138000" not in html
    assert ZHANG[:4] + "**********" + ZHANG[-4:] in html
    assert 'data-testid="rescissions"' in html and "穗南市监撤字〔2023〕12号" in html and "股东 张伟" in html


def test_reveal_person_roles_is_logged(client_for, create, clerk):
    enterprise = create()
    add(enterprise, clerk)
    response = client_for(clerk).post(f"/enterprises/{enterprise.pk}/reveal-persons/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert ZHANG in html and "13800138000" in html
    log = AccessLog.objects.get(object_type="enterprises.EnterprisePerson")
    assert log.user == clerk and log.fields == "id_number,phone" and log.record_count == 2


def test_reveal_person_roles_needs_the_permission(client_for, create, make_user):
    enterprise = create()
    viewer = make_user(role=None)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_enterprise"))
    response = client_for(viewer).post(f"/enterprises/{enterprise.pk}/reveal-persons/")
    assert response.status_code == 403
    assert not AccessLog.objects.filter(object_type="enterprises.EnterprisePerson").exists()
