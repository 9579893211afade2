"""Commodities and exact amounts.

The ledger stores every amount as an integer count of a commodity's smallest unit (whole
riel, US and Thai cents, grams of rice) and speaks ``moneyed.Money`` at its edges. This
module is the only place that converts between the two, so rounding can never creep in:
a value that does not fit its commodity exactly is refused, never rounded.
"""

from __future__ import annotations

import decimal
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

import moneyed
from moneyed import Money

from ledger.errors import CommodityMismatch, InvalidAmount, UnknownCommodity

# A posting may move at most 10^15 minor units (a quadrillion riel, ten trillion dollars,
# a trillion kg of rice). Far beyond any group, and small enough that a group's balances,
# summed over millions of postings, stay inside a signed 64-bit integer on every engine.
MAX_POSTING_MINOR: Final = 10**15
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,24}")


@dataclass(frozen=True)
class Commodity:
    """A unit the ledger counts in, with the number of decimals it is stored to."""

    code: str
    exponent: int
    name: str
    unit_label: str

    @property
    def quantum(self) -> Decimal:
        return Decimal(1).scaleb(-self.exponent)


# Riel is used in whole riel (ISO gives it 2 decimals, but no one has seen a sen since the
# 1970s); rice is counted in kilograms to the gram.
COMMODITIES: Final[dict[str, Commodity]] = {
    c.code: c
    for c in (
        Commodity("KHR", 0, "Cambodian riel", "៛"),
        Commodity("USD", 2, "US dollar", "$"),
        Commodity("THB", 2, "Thai baht", "฿"),
        Commodity("RICE", 3, "Rice (kilograms)", "kg"),
    )
}

if "RICE" not in moneyed.CURRENCIES:
    # py-moneyed keeps one global registry; register rice once, at import.
    moneyed.add_currency(code="RICE", numeric=None, sub_unit=1000, name="Rice (kilograms)")


def commodity(code: str) -> Commodity:
    """Look a commodity up by code, refusing codes the ledger does not keep."""
    try:
        return COMMODITIES[code.upper()]
    except (KeyError, AttributeError):
        known = ", ".join(COMMODITIES)
        raise UnknownCommodity(f"Unknown commodity {code!r}; use one of {known}.") from None


def money(amount: Decimal | int | str, code: str) -> Money:
    """Build a Money, refusing floats (which cannot hold 0.1 exactly) and inexact values."""
    c = commodity(code)
    value = _to_decimal(amount, c)
    return Money(value, c.code)


def to_minor(value: Money, expected: str | None = None) -> int:
    """Convert a Money to an integer of minor units, exactly or not at all."""
    if not isinstance(value, Money):
        raise InvalidAmount(f"Expected an amount with its commodity (Money), got {value!r}.")
    c = commodity(value.currency.code)
    if expected is not None and c.code != commodity(expected).code:
        raise CommodityMismatch(
            f"Amount is in {c.code} but the account keeps {commodity(expected).code}."
        )
    amount = _to_decimal(value.amount, c)
    return _in_range(int(amount.scaleb(c.exponent)), c)


def _in_range(minor: int, c: Commodity) -> int:
    if abs(minor) > MAX_POSTING_MINOR:
        raise InvalidAmount(
            f"{format_minor(minor, c.code)} is beyond the largest amount the ledger accepts "
            f"({format_minor(MAX_POSTING_MINOR, c.code)})."
        )
    return minor


def from_minor(minor: int, code: str) -> Money:
    """Turn stored minor units back into Money."""
    c = commodity(code)
    return Money(Decimal(int(minor)).scaleb(-c.exponent), c.code)


def parse_amount(text: str, code: str) -> int:
    """Read a decimal written by a person or a spreadsheet ("-1,500.25") as minor units.

    Thousands separators are accepted; anything else that is not a plain decimal is refused
    with a message that says what was wrong.
    """
    c = commodity(code)
    cleaned = text.strip().replace(",", "").replace("_", "")
    if not cleaned:
        raise InvalidAmount("The amount is empty.")
    if _WHOLE_NUMBER.fullmatch(cleaned):
        # Most amounts (riel) are whole numbers: skip Decimal and Money for them.
        return _in_range(int(cleaned) * 10**c.exponent, c)
    try:
        value = Decimal(cleaned)
    except decimal.InvalidOperation:
        raise InvalidAmount(f"{text!r} is not a number.") from None
    return to_minor(Money(_to_decimal(value, c), c.code))


def format_minor(minor: int, code: str) -> str:
    """Plain-text amount with thousands separators and the commodity's decimals."""
    c = commodity(code)
    value = Decimal(int(minor)).scaleb(-c.exponent)
    return f"{value:,.{c.exponent}f} {c.code}"


def decimal_text(minor: int, code: str) -> str:
    """Machine-readable decimal (no separators) for CSV and JSON: exact, round-trips."""
    c = commodity(code)
    return f"{Decimal(int(minor)).scaleb(-c.exponent):.{c.exponent}f}"


def _to_decimal(amount: object, c: Commodity) -> Decimal:
    if isinstance(amount, bool):
        raise InvalidAmount(f"Cannot use {amount!r} as an amount.")
    if isinstance(amount, float):
        raise InvalidAmount(
            f"Amounts must be exact; got the floating-point number {amount!r}. "
            "Pass a string or Decimal such as '1500.25'."
        )
    if isinstance(amount, int):
        value = Decimal(amount)
    elif isinstance(amount, Decimal):
        value = amount
    elif isinstance(amount, str):
        try:
            value = Decimal(amount.strip())
        except decimal.InvalidOperation:
            raise InvalidAmount(f"{amount!r} is not a number.") from None
    else:
        raise InvalidAmount(f"Cannot use {amount!r} as an amount.")
    if not value.is_finite():
        raise InvalidAmount(f"{amount!r} is not a finite amount.")
    if value.adjusted() >= 20:
        raise InvalidAmount(f"{value} {c.code} is beyond the largest amount the ledger accepts.")
    with decimal.localcontext() as ctx:
        ctx.prec = 50
        exact = value == value.quantize(c.quantum, rounding=decimal.ROUND_DOWN)
    if not exact:
        raise InvalidAmount(
            f"{value} {c.code} has more decimals than {c.name} allows "
            f"({c.exponent}); amounts are never rounded silently."
        )
    return value
