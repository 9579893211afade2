"""The fonts printed documents use, installed by the project's own dependencies.

Text is set in Noto Sans Khmer (it has Latin letters too), falling back to Noto Sans for a
letter it lacks, both from the fontpkg wheels on
the package index (SIL Open Font Licence), so a fresh machine prints the same pages as
ours without any system font. Both are embedded in every PDF. ReportLab shapes Khmer
through HarfBuzz (uharfbuzz) when a paragraph style says ``shaping=1``: without shaping,
the subscript consonants and vowels that go before their consonant come out wrong.
"""

from __future__ import annotations

from functools import cache

import fontpkg
from reportlab.lib.rl_accel import fp_str
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.textobject import PDFTextObject

LATIN = "SansamLatin"
KHMER = "SansamKhmer"
_FAMILIES = {LATIN: "Noto Sans", KHMER: "Noto Sans Khmer"}


@cache
def khmer_font_covers() -> frozenset[int]:
    """The characters Noto Sans Khmer has: Khmer, Latin-1 and Latin Extended-A, and the
    punctuation documents use. All text is set in it; the rest falls back to Noto Sans."""
    register_fonts()
    font = pdfmetrics.getFont(KHMER)
    return frozenset(font.face.charToGlyph)


@cache
def register_fonts() -> tuple[str, str]:
    """Register the embedded fonts once per process; returns (latin, khmer) names."""
    for name, family in _FAMILIES.items():
        font = TTFont(name, fontpkg.path(family))
        if not font.shapable:  # pragma: no cover - uharfbuzz is a dependency
            raise RuntimeError("Khmer shaping needs the uharfbuzz package; reinstall Sansam.")
        pdfmetrics.registerFont(font)
    return LATIN, KHMER


def _set_rise(self: PDFTextObject, rise: float) -> None:
    """``PDFTextObject.setRise`` as it should be.

    ReportLab (5.1) merges two rises in a row into one ``Ts`` operator but then forgets
    the new rise. Shaped Khmer moves a vowel below a subscript consonant with a rise
    (ក្នុង, ស្តុក): the glyph after it was drawn lowered too, and every later line of
    the page kept the wrong rise, so words came out broken depending on what came
    before them. This keeps the rise it writes.
    """
    operator = f"{fp_str(rise)} Ts"
    if self._code and self._code[-1].endswith(" Ts"):
        self._y += self._rise  # the merged operator replaces the previous rise
        self._code[-1] = operator
    else:
        self._code.append(operator)
    self._rise = rise
    self._y -= rise


PDFTextObject.setRise = _set_rise  # type: ignore[method-assign]
