"""USCC and resident-ID validation: each bad input gives its own error code and a Chinese message."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import uscc as stdnum_uscc

from bizreg.core.identifiers import (
    USCC_ALPHABET,
    build_resident_id,
    build_uscc,
    calc_org_code_check_char,
    uscc_failure_code,
    validate_resident_id,
    validate_uscc,
)

VALID = "91110000600037341L"


def _error(func, value) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        func(value)
    return info.value


def _message(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _with_final_check(partial17: str) -> str:
    return partial17 + stdnum_uscc.calc_check_digit(partial17 + "0")


# --- USCC -----------------------------------------------------------------------------------------


def test_reference_vector_is_valid_and_normalized():
    assert validate_uscc(VALID) == VALID
    assert validate_uscc(" 91110000600037341l ") == VALID
    assert uscc_failure_code(VALID) is None


def test_empty_uscc():
    exc = _error(validate_uscc, "  ")
    assert exc.code == "uscc_required"
    assert "请填写" in _message(exc)


@pytest.mark.parametrize("value", [VALID[:-1], VALID + "1", VALID[:10]])
def test_wrong_length_says_how_long(value):
    exc = _error(validate_uscc, value)
    assert exc.code == "uscc_length"
    assert "应为 18 位" in _message(exc)
    assert f"当前为 {len(value)} 位" in _message(exc)


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_forbidden_letters_are_named(letter):
    value = VALID[:10] + letter + VALID[11:]
    exc = _error(validate_uscc, value)
    assert exc.code == "uscc_forbidden_letter"
    assert "不得含字母" in _message(exc)
    assert f"发现：{letter}" in _message(exc)


@pytest.mark.parametrize("char", ["#", "-", "中", "_"])
def test_invalid_characters_are_named(char):
    value = VALID[:12] + char + VALID[13:]
    exc = _error(validate_uscc, value)
    assert exc.code == "uscc_invalid_character"
    assert f"非法字符：{char}" in _message(exc)


def test_letters_in_the_numeric_head():
    exc = _error(validate_uscc, "9A" + VALID[2:])
    assert exc.code == "uscc_format"
    assert "前 8 位" in _message(exc)


def test_wrong_final_check_digit_says_expected_and_actual():
    wrong = "M" if VALID[-1] != "M" else "N"
    exc = _error(validate_uscc, VALID[:-1] + wrong)
    assert exc.code == "uscc_check_digit"
    assert "第 18 位校验码错误" in _message(exc)
    assert "应为 L" in _message(exc)
    assert f"实为 {wrong}" in _message(exc)


def test_wrong_organization_code_check_char_inside_chars_9_to_17():
    # Change the organization code's own check character (char 17) and repair the final check digit,
    # so only the GB 11714 check inside the code fails: stdnum alone would accept this code.
    org_body = VALID[8:16]
    good_check = calc_org_code_check_char(org_body)
    bad_check = "1" if good_check != "1" else "2"
    value = _with_final_check(VALID[:16] + bad_check)
    stdnum_uscc.validate(value)  # the GB 32100 check digit is right
    exc = _error(validate_uscc, value)
    assert exc.code == "uscc_org_code_check"
    assert "第 9–17 位" in _message(exc)
    assert f"应为 {good_check}" in _message(exc)
    assert f"实为 {bad_check}" in _message(exc)


def test_org_code_check_char_mapping_of_10_and_11():
    # 10 → X and 11 → 0 (GB 11714); find bodies producing each and check the mapping.
    seen = {}
    for n in range(0, 3000):
        body = f"{n:08d}"
        seen.setdefault(calc_org_code_check_char(body), body)
    assert "X" in seen and "0" in seen
    assert set(seen) <= set("0123456789X")


division_codes = st.from_regex(r"\A[1-6][0-9]{5}\Z", fullmatch=True)
org_bodies = st.text(alphabet=USCC_ALPHABET, min_size=8, max_size=8)


@given(division=division_codes, body=org_bodies)
def test_build_uscc_always_validates(division, body):
    code = build_uscc(division, body)
    assert validate_uscc(code) == code


@given(
    division=division_codes,
    body=org_bodies,
    position=st.integers(min_value=0, max_value=17),
    replacement=st.sampled_from(USCC_ALPHABET),
)
def test_any_single_character_substitution_is_caught(division, body, position, replacement):
    code = build_uscc(division, body)
    if code[position] == replacement:
        replacement = USCC_ALPHABET[(USCC_ALPHABET.index(replacement) + 1) % len(USCC_ALPHABET)]
    mutated = code[:position] + replacement + code[position + 1 :]
    assert uscc_failure_code(mutated) in {
        "uscc_format",
        "uscc_org_code_check",
        "uscc_check_digit",
    }


# --- Resident ID ----------------------------------------------------------------------------------

GOOD_ID = build_resident_id("440115", dt.date(1990, 2, 28), 123)


def test_built_resident_id_is_valid():
    assert validate_resident_id(GOOD_ID) == GOOD_ID
    assert validate_resident_id(GOOD_ID.lower()) == GOOD_ID


@pytest.mark.parametrize("value", [GOOD_ID[:-1], GOOD_ID + "1", "4401151990"])
def test_resident_id_wrong_length(value):
    exc = _error(validate_resident_id, value)
    assert exc.code == "ric_length"
    assert f"当前为 {len(value)} 位" in _message(exc)


def test_resident_id_letters_inside():
    exc = _error(validate_resident_id, GOOD_ID[:6] + "A" + GOOD_ID[7:])
    assert exc.code == "ric_format"


def test_resident_id_impossible_birth_date():
    value = "440115" + "19900230" + "123"
    value += "0"  # check digit irrelevant: the date is checked first
    exc = _error(validate_resident_id, value)
    assert exc.code == "ric_birth_date"
    assert "19900230" in _message(exc)
    assert "不存在" in _message(exc)


def test_resident_id_future_birth_date():
    future = dt.date.today() + dt.timedelta(days=400)
    value = build_resident_id("440115", future, 1)
    exc = _error(validate_resident_id, value)
    assert exc.code == "ric_birth_date"
    assert "不合理" in _message(exc)


def test_resident_id_wrong_check_digit():
    wrong = "0" if GOOD_ID[-1] != "0" else "1"
    exc = _error(validate_resident_id, GOOD_ID[:-1] + wrong)
    assert exc.code == "ric_check_digit"
    assert f"应为 {GOOD_ID[-1]}" in _message(exc)
    assert f"实为 {wrong}" in _message(exc)


@given(
    birth=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date.today()),
    sequence=st.integers(min_value=0, max_value=999),
)
def test_build_resident_id_always_validates(birth, sequence):
    value = build_resident_id("440115", birth, sequence)
    assert validate_resident_id(value) == value


def test_resident_id_of_a_county_created_after_the_birth_year_is_accepted():
    # 南沙区 (440115) exists since 2005; people born earlier hold numbers issued there.
    value = build_resident_id("440115", dt.date(1975, 6, 1), 17)
    assert validate_resident_id(value) == value


def test_resident_id_unknown_area_code():
    value = build_resident_id("449999", dt.date(1990, 1, 1), 1)
    exc = _error(validate_resident_id, value)
    assert exc.code == "ric_area"
    assert "449999" in _message(exc)
