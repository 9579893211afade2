"""Words, numbers and names set for the page in the language the reader chose.

A document is printed in Khmer with English alongside (``both``, the default), in Khmer
only (``km``) or in English only (``en``), with Western or Khmer digits. Every piece of
text becomes Paragraph markup in one font, Noto Sans Khmer, which carries Latin letters
too: HarfBuzz shapes a word glued from two fonts' runs wrongly (a Latin "(" or "#" right
before Khmer came out as empty boxes), so text changes font only for the rare letter the
Khmer font lacks. Text from the book (names, purposes) is escaped, so a member called
"Sok & Sons" prints as typed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape

from ledger.money import commodity
from reports.catalog import khmer
from reports.fonts import LATIN, khmer_font_covers
from reports.options import Lang

_KHMER_DIGITS = str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")


def _outside_khmer_font(text: str) -> str:
    """Escaped text, with any run of letters the Khmer font lacks set in the Latin font."""
    covered = khmer_font_covers()
    out: list[str] = []
    run: list[str] = []
    for ch in text:
        if ord(ch) in covered or ch.isspace():
            if run:
                out.append(f'<font name="{LATIN}">{escape("".join(run))}</font>')
                run = []
            out.append(escape(ch))
        else:
            run.append(ch)
    if run:
        out.append(f'<font name="{LATIN}">{escape("".join(run))}</font>')
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Words:
    """How one document speaks: its language and its digits."""

    lang: Lang = "both"
    khmer_digits: bool = False

    def label(self, english: str, *, stacked: bool = False) -> str:
        """A label from the catalog. In ``both``, Khmer then English, one above the other
        when ``stacked`` (table headings), else side by side."""
        km = khmer(english)
        if self.lang == "en" or km is None:
            return escape(english)
        if self.lang == "km":
            return escape(km)
        return f"{escape(km)}<br/>{escape(english)}" if stacked else escape(f"{km} / {english}")

    def text(self, value: str | None) -> str:
        """Text from the book, escaped; Khmer and Latin alike print in the Khmer font."""
        return _outside_khmer_font(value) if value else ""

    def digits(self, value: str) -> str:
        """Digits in the chosen script."""
        return escape(value.translate(_KHMER_DIGITS) if self.khmer_digits else value)

    def amount(self, minor: int, code: str, *, unit: bool = False) -> str:
        """An amount with thousands separators and the commodity's decimals; rice in kg."""
        c = commodity(code)
        value = Decimal(int(minor)).scaleb(-c.exponent)
        shown = f"{value:,.{c.exponent}f}"
        if code == "RICE":  # grams: kilograms with only the decimals that are not zero
            shown = shown.rstrip("0").rstrip(".")
        if unit:
            shown += " kg" if code == "RICE" else f" {c.code}"
        return self.digits(shown)

    def date(self, day: dt.date | None) -> str:
        return self.digits(day.strftime("%d-%m-%Y")) if day else ""

    def count(self, n: int) -> str:
        return self.digits(f"{n:,}")

    def ref(self, n: int) -> str:
        """A number such as an entry or loan number: "#12"."""
        return self.digits(f"#{n}")
