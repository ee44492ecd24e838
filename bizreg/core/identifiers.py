"""Validation of the identifiers the bureau handles, on python-stdnum.

Each failure raises a Django ValidationError whose `code` names the check that failed, so forms, the API
and imports can say exactly what is wrong, and so callers can tell a check-digit failure (which may be a
legally issued early-pilot code, accepted only as a recorded exception) from a malformed value.
"""

from __future__ import annotations

import datetime as dt
import random

from django.core.exceptions import ValidationError
from stdnum.cn import ric, uscc

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_FORBIDDEN_LETTERS = "IOZSV"
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# Codes whose failure is only the final GB 32100 check character: some were legally issued that way.
USCC_EXCEPTION_ELIGIBLE_CODES = frozenset({"uscc_check_digit"})


def normalize_uscc(value: str) -> str:
    return "".join(str(value or "").split()).upper()


def _org_code_char_value(char: str) -> int:
    if char.isdigit():
        return int(char)
    return ord(char) - ord("A") + 10


def calc_org_code_check_char(body: str) -> str:
    """GB 11714 check character for the first eight characters of an organization code."""
    total = sum(_org_code_char_value(c) * w for c, w in zip(body, ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def validate_uscc(value: str) -> str:
    """Return the normalized USCC or raise ValidationError naming the failed check."""
    number = normalize_uscc(value)
    if not number:
        raise ValidationError("请填写统一社会信用代码。", code="uscc_required")
    if len(number) != 18:
        raise ValidationError(
            "统一社会信用代码应为 18 位，当前为 %(length)d 位。",
            code="uscc_length",
            params={"length": len(number)},
        )
    forbidden = sorted({c for c in number if c in USCC_FORBIDDEN_LETTERS})
    if forbidden:
        raise ValidationError(
            "统一社会信用代码不得含字母 I、O、Z、S、V，发现：%(letters)s。",
            code="uscc_forbidden_letter",
            params={"letters": "、".join(forbidden)},
        )
    invalid = sorted({c for c in number if c not in USCC_ALPHABET})
    if invalid:
        raise ValidationError(
            "统一社会信用代码含非法字符：%(chars)s。",
            code="uscc_invalid_character",
            params={"chars": "、".join(invalid)},
        )
    if not number[:8].isdigit():
        raise ValidationError(
            "统一社会信用代码前 8 位（登记管理部门代码、机构类别代码、行政区划码）应为数字。",
            code="uscc_format",
        )
    org_code = number[8:17]
    if calc_org_code_check_char(org_code[:8]) != org_code[8]:
        raise ValidationError(
            "统一社会信用代码第 9–17 位（组织机构代码）的校验码错误：应为 %(expected)s，实为 %(actual)s。",
            code="uscc_org_code_check",
            params={"expected": calc_org_code_check_char(org_code[:8]), "actual": org_code[8]},
        )
    try:
        uscc.validate(number)
    except uscc.InvalidChecksum:
        raise ValidationError(
            "统一社会信用代码第 18 位校验码错误：应为 %(expected)s，实为 %(actual)s。",
            code="uscc_check_digit",
            params={"expected": uscc.calc_check_digit(number), "actual": number[-1]},
        ) from None
    except uscc.ValidationError as exc:  # any other stdnum verdict
        raise ValidationError("统一社会信用代码格式错误。", code="uscc_format") from exc
    return number


def uscc_failure_code(value: str) -> str | None:
    try:
        validate_uscc(value)
    except ValidationError as exc:
        return exc.code
    return None


def build_uscc(division_code: str, org_body: str, *, authority_digit: str = "9", category: str = "1") -> str:
    """Compose a valid USCC from its parts (used for demo data and for tests)."""
    org_code = org_body + calc_org_code_check_char(org_body)
    partial = f"{authority_digit}{category}{division_code}{org_code}"
    return partial + uscc.calc_check_digit(partial + "0")


def random_org_body(rng: random.Random) -> str:
    """Eight organization-code characters as issued: mostly digits, letters in the leading positions."""
    if rng.random() < 0.2:
        letters = "ABCDEFGHJKLMNPQRTUWXY"
        return rng.choice(letters) + rng.choice(letters) + "".join(rng.choice("0123456789") for _ in range(6))
    return "".join(rng.choice("0123456789") for _ in range(8))


def normalize_resident_id(value: str) -> str:
    return "".join(str(value or "").split()).upper()


def validate_resident_id(value: str) -> str:
    """Return the normalized 18-digit resident ID or raise ValidationError naming the failed check."""
    number = normalize_resident_id(value)
    if not number:
        raise ValidationError("请填写公民身份号码。", code="ric_required")
    if len(number) != 18:
        raise ValidationError(
            "公民身份号码应为 18 位，当前为 %(length)d 位。",
            code="ric_length",
            params={"length": len(number)},
        )
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValidationError("公民身份号码前 17 位应为数字，末位为数字或 X。", code="ric_format")
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            "公民身份号码中的出生日期 %(date)s 不存在。",
            code="ric_birth_date",
            params={"date": number[6:14]},
        ) from None
    if birth > dt.date.today() or birth.year < 1900:
        raise ValidationError(
            "公民身份号码中的出生日期 %(date)s 不合理。", code="ric_birth_date", params={"date": number[6:14]}
        )
    # stdnum's ric.validate is not used whole: it also wants the county code to have existed in the
    # birth year, but a number carries the code of where it was issued (people born before 南沙区 existed
    # in 2005 hold 440115 numbers). Its check digit and its table of codes are used as they are.
    expected = ric.calc_check_digit(number)
    if number[-1] != expected:
        raise ValidationError(
            "公民身份号码校验码错误：应为 %(expected)s，实为 %(actual)s。",
            code="ric_check_digit",
            params={"expected": expected, "actual": number[-1]},
        )
    if not _area_code_known(number[:6]):
        raise ValidationError(
            "公民身份号码前 6 位地区码 %(area)s 不存在。", code="ric_area", params={"area": number[:6]}
        )
    return number


def _area_code_known(area: str) -> bool:
    from stdnum import numdb

    info = {k for _part, props in numdb.get("cn/loc").info(area) for k in props}
    return bool(info - {"province"})


def build_resident_id(area: str, birth: dt.date, sequence: int) -> str:
    partial = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return partial + ric.calc_check_digit(partial + "0")
