"""Money is Decimal yuan in the database; reports show 万元 with two decimals."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

TEN_THOUSAND = Decimal("10000")
CENT = Decimal("0.01")


def to_decimal(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"不是有效的金额：{value!r}") from exc
    if not number.is_finite():  # "NaN" and "Infinity" parse as Decimals but are no amount
        raise ValueError(f"不是有效的金额：{value!r}")
    return number


def yuan_to_wan(yuan: object, places: Decimal = CENT) -> Decimal:
    return (to_decimal(yuan) / TEN_THOUSAND).quantize(places, rounding=ROUND_HALF_UP)


def wan_to_yuan(wan: object) -> Decimal:
    return (to_decimal(wan) * TEN_THOUSAND).quantize(CENT, rounding=ROUND_HALF_UP)


def format_wan(yuan: object) -> str:
    """'943.10 万元'."""
    return f"{yuan_to_wan(yuan):,.2f} 万元"
