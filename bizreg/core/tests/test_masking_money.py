"""Masking of personal data and the yuan ↔ 万元 helpers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bizreg.core.masking import mask_address, mask_id_number, mask_person_name, mask_phone
from bizreg.core.money import format_wan, to_decimal, wan_to_yuan, yuan_to_wan


def test_id_number_keeps_first_and_last_four():
    assert mask_id_number("44011519900101123X") == "4401**********123X"
    assert mask_id_number("91440115MA59ABCD1X") == "9144**********CD1X"


@pytest.mark.parametrize(
    ("value", "masked"), [(None, ""), ("", ""), ("12345678", "********"), ("123", "***")]
)
def test_short_or_empty_id_numbers_reveal_nothing(value, masked):
    assert mask_id_number(value) == masked


def test_addresses_keep_the_district_part_only():
    assert mask_address("广州市南沙区横沥镇汇通二街2号1117房") == "广州市南沙区横沥****"
    assert mask_address("南沙区海滨路") == "南沙区***"
    assert mask_address("") == "" and mask_address(None) == ""


def test_phone_numbers():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("020-84981234") == "020*****1234"
    assert mask_phone("12345") == "1****"
    assert mask_phone("") == ""


def test_person_names_keep_only_the_surname_and_last_character():
    assert mask_person_name("张三") == "张*"
    assert mask_person_name("张三丰") == "张*丰"
    assert mask_person_name("欧阳娜娜") == "欧**娜"
    assert mask_person_name("李") == "*"
    assert mask_person_name(None) == ""


def test_yuan_to_wan_rounds_half_up_to_two_decimals():
    assert yuan_to_wan("9431000") == Decimal("943.10")
    assert yuan_to_wan(12345) == Decimal("1.23")
    assert yuan_to_wan(12350) == Decimal("1.24")
    assert yuan_to_wan("12349.99") == Decimal("1.23")
    assert yuan_to_wan(Decimal("-12350")) == Decimal("-1.24")
    assert yuan_to_wan("1,234,500") == Decimal("123.45")


def test_wan_to_yuan():
    assert wan_to_yuan("943.1") == Decimal("9431000.00")
    assert wan_to_yuan(Decimal("0.00005")) == Decimal("0.50")


def test_format_wan():
    assert format_wan("9431000") == "943.10 万元"
    assert format_wan(0) == "0.00 万元"
    assert format_wan("123456789012") == "12,345,678.90 万元"


@pytest.mark.parametrize("value", ["abc", "", None, "12元", "NaN", "Infinity", "-inf"])
def test_not_a_number_is_a_clear_error(value):
    with pytest.raises(ValueError, match="不是有效的金额"):
        to_decimal(value)
