"""Mail intake: recording inbound packages, linking them, hand-overs, mailing licences out."""

# ruff: noqa: F811 — the shared fixtures are imported from docs_fixtures and requested by name

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from bizreg.registration.models import CaseState, LicenceKind, MailHandover, MailPackage
from bizreg.registration.services import licences, mail
from bizreg.registration.tests.docs_fixtures import (  # noqa: F401
    at,
    case,
    clerk,
    make_case,
    manager,
    post_licence,
    private_media,
    receive,
)
from bizreg.testing.factories import EnterpriseFactory

pytestmark = pytest.mark.django_db

DOCUMENTS = "公司登记（备案）申请书\n公司章程\n\n住所使用证明\n"


def inbound(authority, actor, **overrides):
    data = {
        "authority": authority,
        "actor": actor,
        "courier": "ems",
        "tracking_number": "EA123456789CN",
        "enterprise_name": "广州南沙邮寄测试有限公司",
        "documents": DOCUMENTS,
    }
    data.update(overrides)
    return mail.mail_receive(**data)


def test_an_inbound_package_is_recorded(authority, clerk):
    package = inbound(authority, clerk, tracking_number="ea 1234-56789 cn", address="南沙区进港大道 8 号")
    assert package.direction == MailPackage.Direction.INBOUND
    assert package.tracking_number == "EA123456789CN"
    assert package.documents == "公司登记（备案）申请书\n公司章程\n住所使用证明"
    assert package.recorded_by == clerk and package.recorded_at is not None
    assert package.history.first().history_user == clerk


def test_the_sender_is_linked_by_uscc(authority, clerk):
    enterprise = EnterpriseFactory(authority=authority, name="广州南沙在册贸易有限公司")
    package = inbound(authority, clerk, enterprise_name="", uscc=enterprise.uscc.lower())
    assert package.enterprise == enterprise
    assert package.enterprise_name == "广州南沙在册贸易有限公司"


def test_a_package_links_to_a_case_and_its_enterprise(authority, clerk):
    enterprise = EnterpriseFactory(authority=authority)
    case = make_case(authority, enterprise=enterprise, state=CaseState.RECEIVED)
    package = inbound(authority, clerk, enterprise_name="", case=case)
    assert package.case == case and package.enterprise == enterprise
    assert package.enterprise_name == case.enterprise_name


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"courier": "sf", "tracking_number": "EA123456789CN"}, "tracking_number", "顺丰速运的快递单号应为"),
        ({"tracking_number": ""}, "tracking_number", "请填写快递单号"),
        ({"courier": "ups"}, "courier", "请选择快递公司"),
        ({"documents": "\n  \n"}, "documents", "请填写邮寄文件清单"),
        ({"documents": "\n".join(f"文件{n}" for n in range(51))}, "documents", "最多 50 项"),
        ({"documents": "长" * 101}, "documents", "每个文件名称不超过 100 个字"),
        ({"enterprise_name": ""}, "enterprise_name", "请填写寄件企业名称"),
        ({"uscc": "91440115ABC"}, "uscc", "统一社会信用代码应为 18 位"),
        ({"uscc": "91110000600037341L"}, "uscc", "登记簿中没有该统一社会信用代码的商事主体"),
        ({"recorded_at": timezone.now() + dt.timedelta(hours=2)}, "recorded_at", "收件时间不能晚于当前时间"),
        ({"note": "注" * 301}, "note", "备注不能超过 300 个字"),
    ],
)
def test_bad_input_is_a_field_error(authority, clerk, overrides, field, message):
    with pytest.raises(ValidationError) as caught:
        inbound(authority, clerk, **overrides)
    assert message in " ".join(caught.value.message_dict[field])
    assert not MailPackage.objects.exists()


def test_every_problem_is_reported_at_once(authority, clerk):
    with pytest.raises(ValidationError) as caught:
        inbound(authority, clerk, tracking_number="xx", documents="", enterprise_name="")
    assert set(caught.value.message_dict) == {"tracking_number", "documents", "enterprise_name"}


def test_a_tracking_number_is_recorded_once(authority, clerk):
    inbound(authority, clerk)
    with pytest.raises(ValidationError) as caught:
        inbound(authority, clerk, tracking_number="EA 123456789 CN")
    assert "该快递单号已于" in caught.value.message_dict["tracking_number"][0]
    assert MailPackage.objects.count() == 1


def test_another_authoritys_case_cannot_be_linked(authority, other_authority, clerk):
    with pytest.raises(ValidationError) as caught:
        inbound(authority, clerk, case=make_case(other_authority))
    assert caught.value.message_dict["case"] == ["没有找到该业务。"]


def test_a_package_is_linked_to_a_case_later_once(authority, clerk):
    package = inbound(authority, clerk)
    first, second = make_case(authority), make_case(authority)
    mail.mail_link_case(package=package, case=first, actor=clerk)
    with pytest.raises(mail.MailError, match="已关联业务"):
        mail.mail_link_case(package=package, case=second, actor=clerk)
    package.refresh_from_db()
    assert package.case == first


# --- hand-overs ----------------------------------------------------------------------------------------


def test_every_handover_is_logged_in_order(authority, clerk, make_user):
    reviewer = make_user("registration_clerk", display_name="预审窗口")
    printer = make_user("registration_clerk", display_name="执照打印")
    package = inbound(authority, clerk, case=make_case(authority))
    mail.mail_handover(package=package, actor=clerk, to_user=reviewer, purpose="移交预审/受理")
    mail.mail_handover(package=package, actor=reviewer, to_user=printer, purpose="移交执照打印")
    rows = list(MailHandover.objects.filter(package=package).order_by("occurred_at", "id"))
    assert [(h.from_user, h.to_user, h.purpose) for h in rows] == [
        (clerk, reviewer, "移交预审/受理"),
        (reviewer, printer, "移交执照打印"),
    ]


@pytest.mark.parametrize(
    ("target", "purpose", "linked", "field", "message"),
    [
        ("self", "移交预审/受理", True, "to_user", "不能交接给自己"),
        ("foreign", "移交预审/受理", True, "to_user", "接收人不属于本登记机关"),
        ("inactive", "移交预审/受理", True, "to_user", "请选择接收人"),
        ("archivist", "移交执照打印", True, "to_user", "接收人没有打印营业执照的权限"),
        ("colleague", "移交执照打印", False, "purpose", "移交执照打印前，请先关联登记业务"),
        ("colleague", "顺便带走", True, "purpose", "请选择交接事由"),
    ],
)
def test_handover_rules(
    authority, other_authority, clerk, make_user, target, purpose, linked, field, message
):
    users = {
        "self": clerk,
        "foreign": make_user("registration_clerk", authorities=[other_authority]),
        "inactive": make_user("registration_clerk", is_active=False),
        "archivist": make_user("archivist"),
        "colleague": make_user("registration_clerk"),
    }
    package = inbound(authority, clerk, case=make_case(authority) if linked else None)
    with pytest.raises(ValidationError) as caught:
        mail.mail_handover(package=package, actor=clerk, to_user=users[target], purpose=purpose)
    assert message in caught.value.message_dict[field][0]
    assert not MailHandover.objects.exists()


def test_a_handover_is_for_what_its_direction_of_package_is_handed_on_for(
    authority, clerk, manager, make_user
):
    """What arrived goes on to review, printing or the archive, never "for posting"; a licence to be posted
    is handed on for posting, never to review or printing."""
    colleague = make_user("registration_clerk")
    arrived = inbound(authority, clerk, case=make_case(authority))
    with pytest.raises(ValidationError) as caught:
        mail.mail_handover(package=arrived, actor=clerk, to_user=colleague, purpose="移交寄出")
    assert caught.value.message_dict["purpose"] == ["“移交寄出”不适用于收件的邮寄件。"]
    receive(authority, manager, kind=LicenceKind.ORIGINAL, count=1, start=1)
    case = make_case(authority)
    licences.licence_print(case=case, kind=LicenceKind.ORIGINAL, actor=clerk)
    case.state = CaseState.LICENSED
    case.save()
    posted = post_licence(case, clerk)
    for purpose in ("移交预审/受理", "移交执照打印", "移交档案管理"):
        with pytest.raises(ValidationError) as caught:
            mail.mail_handover(package=posted, actor=clerk, to_user=colleague, purpose=purpose)
        assert caught.value.message_dict["purpose"] == [f"“{purpose}”不适用于寄出的邮寄件。"]
    assert not MailHandover.objects.exists()
    mail.mail_handover(package=posted, actor=clerk, to_user=colleague, purpose="移交寄出")
    assert list(MailHandover.objects.values_list("purpose", flat=True)) == ["移交寄出"]


# --- outbound ------------------------------------------------------------------------------------------


def test_the_printed_licence_is_mailed_out(authority, clerk, manager):
    receive(authority, manager, kind=LicenceKind.ORIGINAL, count=2, start=1)
    receive(authority, manager, kind=LicenceKind.DUPLICATE, count=2, start=500)
    case = make_case(authority)
    arrived = inbound(authority, clerk, case=case, address="广州市南沙区海滨路 171 号")
    licences.licence_print(case=case, kind=LicenceKind.ORIGINAL, actor=clerk)
    licences.licence_print(case=case, kind=LicenceKind.DUPLICATE, actor=clerk)
    case.state = CaseState.LICENSED
    case.save()
    package = post_licence(case, clerk)
    assert package.direction == MailPackage.Direction.OUTBOUND
    assert package.reply_to == arrived and package.case == case
    assert package.documents == "营业执照正本（编号 NS00000001）\n营业执照副本（编号 NS00000500）"
    # The same number may appear once inbound and once outbound, never twice the same way.
    with pytest.raises(ValidationError, match="已于"):
        mail.mail_send_licence(
            case=case, actor=clerk, courier="sf", tracking_number="SF1234567890123", address="x"
        )


def test_nothing_is_mailed_before_the_licence_is_printed(authority, clerk):
    case = make_case(authority, state=CaseState.APPROVED)
    with pytest.raises(mail.MailError, match="尚未打印营业执照"):
        mail.mail_send_licence(
            case=case, actor=clerk, courier="sf", tracking_number="SF1234567890123", address="某地"
        )
    with pytest.raises(ValidationError) as caught:
        mail.mail_send_licence(case=case, actor=clerk, courier="sf", tracking_number="SF1", address="")
    assert set(caught.value.message_dict) == {"tracking_number", "address"}
