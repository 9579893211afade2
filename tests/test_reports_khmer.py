"""Khmer on paper: shaped glyphs stay where HarfBuzz puts them, and every word the
documents print has its Khmer in the catalog."""

from __future__ import annotations

import base64
import re
import zlib

from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph
from sqlalchemy import select

from ledger.collection_sheet import collection_sheet
from ledger.group_report import group_report
from ledger.groups import find_group
from ledger.loan_card import loan_card
from ledger.member_statement import member_statements
from ledger.models import Loan
from ledger.portfolio_report import portfolio_report
from ledger.shareout_sheet import shareout_sheet
from reports.catalog import khmer_words
from reports.collection_sheet import collection_sheet_pdf
from reports.group_report import group_report_pdf
from reports.layout import Page, render, styles
from reports.loan_card import loan_card_pdf
from reports.member_statement import statement_pdf
from reports.portfolio_report import portfolio_report_pdf
from reports.shareout_sheet import shareout_sheet_pdf
from reports.text import Words
from tests.conftest import DEMO_TODAY

START = DEMO_TODAY.replace(month=9, day=1)

_TOKENS = re.compile(rb"\(((?:\\.|[^\\)])*)\)|(-?\d+(?:\.\d+)?) Ts")


def _unescape(found: re.Match[bytes]) -> bytes:
    code = found.group(1)
    return bytes([int(code, 8)]) if code[:1].isdigit() else code


def _glyph_rises(pdf: bytes) -> list[float]:
    """The text rise in force for each glyph drawn on the first page."""
    rises: list[float] = []
    rise = 0.0
    for chunk in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        raw = chunk.strip()
        if raw.endswith(b"~>"):  # ReportLab writes ASCII85 over Flate
            raw = base64.a85decode(raw[:-2])
        try:
            content = zlib.decompress(raw)
        except zlib.error:
            continue
        for block in re.findall(rb"BT(.*?)ET", content, re.S):
            if b" 40 Tf" not in block:  # only the words under test, not the footer
                continue
            for text, value in _TOKENS.findall(block):
                if value:
                    rise = float(value)
                else:
                    glyphs = re.sub(rb"\\([0-7]{1,3}|.)", _unescape, text).replace(b" ", b"")
                    rises.extend([rise] * len(glyphs))
    return rises


def test_a_vowel_below_a_subscript_does_not_pull_down_what_follows():
    """ក្នុង: ក, subscript ន lowered a little, vowel ុ lowered below it, then ង on the
    line again; and the next word starts on the line (ReportLab 5.1 kept the rise)."""
    big = ParagraphStyle("big", parent=styles("A4").body, fontSize=40, leading=70)
    pdf = render([Paragraph("ក្នុង", big), Paragraph("ក្នុង", big)], Page(), Words())
    rises = _glyph_rises(pdf)
    assert len(rises) == 8
    assert rises[0] == 0 and rises[1] < 0 and rises[2] < rises[1] and rises[3] == 0
    assert rises[4:] == rises[:4]


def test_every_word_the_documents_print_has_its_khmer(demo_book, monkeypatch):
    """A label missing from km.po would print in English on a Khmer page: print every
    kind of document from the demo and collect the words the catalog did not have."""
    import reports.text

    missing: set[str] = set()

    def spy(english: str) -> str | None:
        found = khmer_words().get(english)
        if found is None:
            missing.add(english)
        return found

    monkeypatch.setattr(reports.text, "khmer", spy)
    words = Words("km")
    with demo_book.read() as s:
        puok, bkng = find_group(s, "SR-PUOK-01"), find_group(s, "SR-BKNG-01")
        loan = (
            s.execute(
                select(Loan.number).where(Loan.group_id == puok.id, Loan.account_id.is_not(None))
            ).scalar_one_or_none()
            or 1
        )
        documents = [
            *(
                statement_pdf(st, words=words)
                for group in (puok, bkng)
                for st in list(member_statements(s, group.id, START, DEMO_TODAY))[:3]
            ),
            loan_card_pdf(loan_card(s, puok.id, loan, on=DEMO_TODAY), words=words),
            collection_sheet_pdf(collection_sheet(s, puok.id, DEMO_TODAY), words=words),
            shareout_sheet_pdf(
                shareout_sheet(s, puok.id, on=DEMO_TODAY, posted=False, deduct_loans=True),
                words=words,
            ),
            group_report_pdf(group_report(s, bkng.id, START, DEMO_TODAY), words=words),
            portfolio_report_pdf(portfolio_report(s, as_of=DEMO_TODAY, by="commune"), words=words),
        ]
    assert all(pdf.startswith(b"%PDF") for pdf in documents)
    assert missing == set(), f"add to reports/locale/km.po: {sorted(missing)}"
