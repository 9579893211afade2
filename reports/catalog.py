"""The words printed documents use, in English and Khmer, from a gettext catalog.

English is the message id; the Khmer is kept in ``reports/locale/km.po`` so a Khmer-
speaking coordinator can correct a word with any PO editor (Poedit, Weblate) without
touching code. Babel reads the catalog; a word missing from it prints in English, and a
test keeps every word the documents use in the catalog.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

CATALOG = Path(__file__).with_name("locale") / "km.po"


@cache
def khmer_words() -> dict[str, str]:
    """English → Khmer, for every translated, non-fuzzy entry of the catalog."""
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, locale="km")
    return {
        str(m.id): str(m.string)
        for m in catalog
        if m.id and m.string and not m.fuzzy and isinstance(m.id, str)
    }


def khmer(english: str) -> str | None:
    """The Khmer for an English word or phrase, or None when the catalog has none."""
    return khmer_words().get(english)
