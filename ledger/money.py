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
# A whole number of at most 19 digits, written plainly: the common case, read at once.
_PLAIN_WHOLE = re.compile(r"[+-]?[0-9]{1,19}")
_MAX_DIGITS = 19  # more significant digits than this can only be beyond MAX_POSTING_MINOR
KHMER_DIGITS: Final = "០១២៣៤៥៦៧៨៩"
_KHMER_TO_LATIN = str.maketrans(KHMER_DIGITS, "0123456789")
# Thousands separators: comma, space, no-break space, narrow no-break space, underscore.
_SEPARATOR_CHARS = ", \u00a0\u202f_"
_SEPARATORS = re.compile(f"[{_SEPARATOR_CHARS}]")
_AMOUNT = re.compile(
    rf"(?P<sign>[+-]?)(?P<whole>[0-9][0-9{_SEPARATOR_CHARS}]*)?(?P<dot>\.(?P<fraction>[0-9]*))?",
    re.ASCII,
)
_GROUPED = re.compile(rf"[0-9]{{1,3}}(?:[{_SEPARATOR_CHARS}][0-9]{{3}})+", re.ASCII)
_DOT_GROUPED = re.compile(r"[+-]?[0-9]{1,3}(?:\.[0-9]{3}){2,}", re.ASCII)
# Currency signs and codes, and the rice unit, that people write next to a number.
_UNIT_MARKS = re.compile(r"(?i)[$៛฿]|\b(?:KHR|USD|THB|riel|baht|kg|kgs)\b")
# No two parts can take the same digits, so a long non-number is refused in linear time.
_SCIENTIFIC = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][+-]?[0-9]{1,6}", re.ASCII)


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


def latin_digits(text: str) -> str:
    """Khmer digits (០-៩) as the digits 0-9: treasurers type either, and both mean the same
    number, date or member code."""
    return text.translate(_KHMER_TO_LATIN)


def parse_amount(text: str, code: str) -> int:
    """Read a decimal written by a person or a spreadsheet ("-1,500.25") as minor units.

    Digits may be Khmer (៥,០០០) or 0-9; thousands may be separated by commas, spaces
    (also the no-break spaces spreadsheets write) or underscores, between groups of three
    only, so "1,5" (a decimal comma) is never read as fifteen. A dot is the decimal point;
    a dot before exactly three digits in a currency with fewer decimals ("1.000" riel) is
    refused as ambiguous rather than guessed. Scientific notation ("1.2E+11", which a
    spreadsheet writes for a long number after rounding it) is refused. Everything else
    that is not a plain decimal is refused with a message that says what was wrong; the
    number is never turned into an int or Decimal before its size is known, so no length
    of input can raise anything but ``InvalidAmount``.
    """
    c = commodity(code)
    if not isinstance(text, str):
        raise InvalidAmount(f"Cannot use {text!r} as an amount.")
    cleaned = (text if text.isascii() else latin_digits(text)).strip()
    if _PLAIN_WHOLE.fullmatch(cleaned):
        # Most amounts (riel) are plain whole numbers: the short way (an import's hot loop).
        return _in_range(int(cleaned) * 10**c.exponent, c)
    if not cleaned:
        raise InvalidAmount("The amount is empty.")
    shown = _shown(text)
    match = _AMOUNT.fullmatch(cleaned)
    if match is None:
        raise InvalidAmount(_why_not_an_amount(cleaned, shown, c))
    sign, whole, fraction = match["sign"], match["whole"] or "", match["fraction"]
    if whole and not whole.isdigit():
        if not _GROUPED.fullmatch(whole):
            raise InvalidAmount(
                f"{shown}: commas or spaces go between thousands, as in 5,000 or 1,500.25 "
                "(the decimal point is a dot)."
            )
        whole = _SEPARATORS.sub("", whole)
    fraction = fraction or ""
    if not whole and not fraction:
        raise InvalidAmount(f"{shown} is not a number.")
    if (
        match["dot"]
        and len(fraction) == 3
        and c.exponent < 3
        and whole.isdigit()
        and len(whole) <= 3
        and not whole.startswith("0")  # 0.001 has no thousands to separate
        and whole == match["whole"]
    ):
        alternative = whole if c.exponent == 0 else f"{whole}.{fraction[: c.exponent]}"
        raise InvalidAmount(
            f"{shown} is ambiguous: a dot before three digits may separate thousands. Write "
            f"{whole}{fraction} (or {whole},{fraction}) if you mean thousands, or "
            f"{alternative} if not."
        )
    significant = whole.lstrip("0")
    if len(significant) > _MAX_DIGITS:
        raise InvalidAmount(
            f"{shown} is beyond the largest amount the ledger accepts "
            f"({format_minor(MAX_POSTING_MINOR, c.code)})."
        )
    kept, dropped = fraction[: c.exponent], fraction[c.exponent :]
    if dropped.strip("0"):
        written = f"{sign}{significant or '0'}.{fraction.rstrip('0')}"
        if len(written) > 40:
            written = written[:37] + "..."
        raise InvalidAmount(
            f"{written} {c.code} has more decimals than {c.name} allows "
            f"({c.exponent}); amounts are never rounded silently."
        )
    minor = int(significant or "0") * 10**c.exponent + int(kept.ljust(c.exponent, "0") or "0")
    return _in_range(-minor if sign == "-" else minor, c)


def _shown(text: str) -> str:
    """The text as quoted back in a message, cut short when someone pasted a novel."""
    return repr(text) if len(text) <= 40 else repr(text[:37] + "...")


def _why_not_an_amount(cleaned: str, shown: str, c: Commodity) -> str:
    """The message for text that is not a plain decimal: say what it looks like."""
    if _SCIENTIFIC.fullmatch(cleaned):
        try:
            value = Decimal(cleaned)
        except decimal.InvalidOperation:  # pragma: no cover - the regex is stricter
            return f"{shown} is not a number."
        if value.adjusted() >= _MAX_DIGITS:
            return (
                f"{shown} is beyond the largest amount the ledger accepts "
                f"({format_minor(MAX_POSTING_MINOR, c.code)})."
            )
        return (
            f"{shown} is written in scientific notation, which a spreadsheet uses after "
            "rounding a long number; format the column as a number and save again."
        )
    if _DOT_GROUPED.fullmatch(cleaned):
        digits = cleaned.replace(".", "")
        return f"{shown} has dots between thousands; write {digits} or {int(digits):,}."
    if any(ch.isdigit() and not ch.isascii() for ch in cleaned):
        return f"{shown} has digits of another script; write 0-9 or Khmer digits ០-៩."
    bare = _UNIT_MARKS.sub("", cleaned).strip()
    if bare != cleaned and bare and _AMOUNT.fullmatch(bare):
        return f"{shown}: write the number alone, without a currency sign or unit."
    return f"{shown} is not a number."


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
