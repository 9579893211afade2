"""The words the terminal app shows, in English or Khmer, from a gettext catalog.

English is the message id and is complete by construction. The Khmer for the app's own
words is kept in ``tui/locale/km.po`` (a start from ``GLOSSARY.md``, for a Khmer speaker
to review with any PO editor); a word the app's catalog lacks is looked up in the printed
documents' catalog, and failing that shown in English. The language is chosen at sign-in.

Terminals do not shape Khmer and miscount its width, so Khmer words go in free-width text
(titles, labels, messages) only; table headers and cells stay in Latin script.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

from reports.catalog import khmer as document_khmer

CATALOG = Path(__file__).with_name("locale") / "km.po"
LANGUAGES = {"en": "English", "km": "ខ្មែរ (Khmer)"}
_language = "en"


@cache
def app_khmer_words() -> dict[str, str]:
    """English → Khmer for every translated, non-fuzzy entry of the app's catalog."""
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle, locale="km")
    return {
        str(m.id): str(m.string)
        for m in catalog
        if m.id and m.string and not m.fuzzy and isinstance(m.id, str)
    }


def set_language(code: str) -> None:
    """Choose the language of every word shown from now on ("en" or "km")."""
    global _language
    if code not in LANGUAGES:
        raise ValueError(f"unknown language {code!r}")
    _language = code


def language() -> str:
    return _language


def t(english: str) -> str:
    """The word in the chosen language (English when no translation is known)."""
    if _language == "en":
        return english
    return app_khmer_words().get(english) or document_khmer(english) or english


def latin(english: str) -> str:
    """A word for a table header or cell: always English (terminals cannot shape Khmer)."""
    return english
