"""The tracking-number rules of each courier: what is accepted, what is refused and how it is explained."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from bizreg.registration.models import Courier
from bizreg.registration.services.mail import TRACKING_RULES, validate_tracking_number

VALID = {
    Courier.EMS: ["EA123456789CN", "1234567890123", "ea 123 456 789 cn"],
    Courier.SF: ["SF123456789012", "SF1234567890123", "SF123456789012345", "sf-1234-5678-9012"],
    Courier.JD: ["JD0123456789012", "JDVA12345678901", "JD12345678901234X"],
    Courier.ZTO: ["731234567890", "791234567890", "123456789012345", "123456789012"],
    Courier.YTO: ["YT1234567890123"],
    Courier.STO: ["773456789012345", "770000000000000"],
    Courier.YUNDA: ["4312345678901", "431234567890123"],
    Courier.OTHER: ["AB1234", "DBL123456789012345678901234567"],
}

INVALID = {
    Courier.EMS: ["EA12345678CN", "E1123456789CN", "EA123456789C1", "123456789012", "12345678901234"],
    Courier.SF: ["SF12345678901", "SF1234567890123456", "123456789012", "SX123456789012", "SF12345678901A"],
    Courier.JD: ["JD123456789012", "JD1234567890123456", "JX0123456789012", "0123456789012"],
    Courier.ZTO: ["12345678901", "1234567890123456", "ZT1234567890", "72345678901"],
    Courier.YTO: ["YT123456789012", "YT12345678901234", "YD1234567890123", "1234567890123"],
    Courier.STO: ["763456789012345", "77345678901234", "7734567890123456"],
    Courier.OTHER: ["AB123", "A" * 31, "中通123456", "AB#12345"],
    # Full-width and Arabic-Indic digits look like digits but are not what the courier prints.
    Courier.YUNDA: [
        "123456789012",
        "1234567890123456",
        "YD1234567890123",
        "１２３４５６７８９０１２３",
        "١٢٣٤٥٦٧٨٩٠١٢٣",
    ],
}


@pytest.mark.parametrize(
    ("courier", "number"), [(c, n) for c, numbers in VALID.items() for n in numbers], ids=lambda v: str(v)
)
def test_valid_numbers_are_accepted_normalized(courier, number):
    normalized = validate_tracking_number(courier, number)
    assert normalized == number.replace(" ", "").replace("-", "").upper()


@pytest.mark.parametrize(
    ("courier", "number"), [(c, n) for c, numbers in INVALID.items() for n in numbers], ids=lambda v: str(v)
)
def test_malformed_numbers_are_a_field_error_naming_the_format(courier, number):
    with pytest.raises(ValidationError) as caught:
        validate_tracking_number(courier, number)
    message = caught.value.message_dict["tracking_number"][0]
    assert message.startswith(f"{Courier(courier).label}的快递单号应为")
    assert TRACKING_RULES[courier].example in message


def test_the_messages_read_as_chinese_sentences():
    with pytest.raises(ValidationError) as caught:
        validate_tracking_number(Courier.SF, "SF123")
    assert caught.value.message_dict["tracking_number"] == [
        "顺丰速运的快递单号应为SF 加 12–15 位数字（如 SF1234567890123），当前为“SF123”。"
    ]


@pytest.mark.parametrize(("courier", "number"), [(Courier.EMS, ""), (Courier.SF, "   ")])
def test_an_empty_number_asks_for_one(courier, number):
    with pytest.raises(ValidationError) as caught:
        validate_tracking_number(courier, number)
    assert caught.value.message_dict == {"tracking_number": ["请填写快递单号。"]}


def test_an_unknown_courier_is_refused():
    with pytest.raises(ValidationError) as caught:
        validate_tracking_number("dhl", "1234567890")
    assert caught.value.message_dict == {"courier": ["请选择快递公司。"]}


def test_every_example_satisfies_its_own_rule():
    for courier, rule in TRACKING_RULES.items():
        assert validate_tracking_number(courier, rule.example) == rule.example


@given(st.text(max_size=60))
def test_any_text_is_either_accepted_or_explained(text):
    for courier in TRACKING_RULES:
        try:
            number = validate_tracking_number(courier, text)
        except ValidationError as exc:
            assert set(exc.message_dict) == {"tracking_number"}
        else:
            assert number.isalnum() and number.isascii() and len(number) <= 30
