"""The blank collection sheet: pre-filled from the book, printed landscape to fill by hand."""

from __future__ import annotations

import datetime as dt

import pypdfium2 as pdfium
import pytest
from sqlalchemy import select

from ledger.collection_sheet import collection_sheet
from ledger.cycles import current_cycle
from ledger.errors import InvalidEntry
from ledger.groups import find_group
from ledger.loans import loan_statement, loans_of_group
from ledger.members import list_members
from ledger.models import Meeting
from ledger.positions import group_position
from reports.collection_sheet import collection_sheet_flowables, collection_sheet_pdf
from reports.options import LANGS
from reports.text import Words
from tests.conftest import DEMO_TODAY
from tests.report_helpers import inked_share, page_images, pdf_text
from tests.test_reports_loan_card import cells_too_narrow

NOW = dt.datetime(2026, 11, 22, 9, 30)


def _next_sheet(session, code: str):  # type: ignore[no-untyped-def]
    """The sheet of the group's next meeting, and the group's position now."""
    group = find_group(session, code)
    position = group_position(session, group.id, on=DEMO_TODAY)
    assert position.next_meeting is not None
    return collection_sheet(session, group.id, position.next_meeting), position


@pytest.mark.parametrize("code", ["SR-PUOK-01", "SR-ACHM-01", "SR-BKNG-01"])
def test_the_sheet_lists_the_members_and_what_their_loans_ask(demo_book, code):
    with demo_book.read() as s:
        sheet, position = _next_sheet(s, code)
        day = sheet.meeting_date
        members = list_members(s, sheet.group.id, on=day)
        active = {}
        for loan in loans_of_group(s, sheet.group.id):
            st = loan_statement(s, loan.id, on=day)
            if st.state == "active":
                active.setdefault(loan.member_id, []).append((loan.number, st.due_now))
        cycle = current_cycle(s, sheet.group.id)
    assert [r.member.code for r in sheet.rows] == [m.code for m in members]
    for row in sheet.rows:
        assert [(x.number, x.due_now) for x in row.loans] == active.get(row.member.id, [])
    assert sheet.loan_due == sum(due for loans in active.values() for _, due in loans)
    assert sheet.opening_cash == position.cash_box
    assert sheet.meeting_number == position.meetings_held + 1
    assert sheet.cycle == cycle


def test_a_sheet_for_a_day_already_met_opens_with_that_meetings_cash(demo_book):
    with demo_book.read() as s:
        group = find_group(s, "SR-ACHM-01")
        meetings = s.execute(
            select(Meeting).where(Meeting.group_id == group.id).order_by(Meeting.number)
        ).scalars()
        for meeting in meetings:
            sheet = collection_sheet(s, group.id, meeting.meeting_date)
            assert sheet.opening_cash == meeting.opening_cash, meeting.number
            assert sheet.meeting_number == meeting.number


def test_the_sheet_prints_landscape_with_the_amounts_due(demo_book, tmp_path):
    with demo_book.read() as s:
        sheet, _ = _next_sheet(s, "SR-PUOK-01")
    both = collection_sheet_pdf(sheet, now=NOW)
    text = " ".join(pdf_text(both).split())  # a label may wrap in its cell
    for label in ("Collection sheet", "Attendance", "Social fund", "Loan repayment", "Treasurer"):
        assert label in text, label
    assert "Chairperson" in text and "Share price" in text
    assert f"{sheet.opening_cash:,} KHR" in text
    borrower = next(r for r in sheet.rows if r.loans)
    assert f"#{borrower.loans[0].number}: {borrower.loans[0].due_now:,}" in text
    assert f"{sheet.loan_due:,}" in text
    assert all(r.member.name_latin in text for r in sheet.rows)
    width, height = pdfium.PdfDocument(both)[0].get_size()
    assert width > height  # landscape
    khmer = collection_sheet_pdf(sheet, words=Words("km", khmer_digits=True), now=NOW)
    shown = pdf_text(khmer)
    assert "Collection sheet" not in shown and f"{sheet.opening_cash:,}" not in shown
    for name, pdf in (("both", both), ("km", khmer)):
        pages = page_images(pdf, tmp_path, f"collection-{name}")
        assert pages and all(inked_share(p) > 0.005 for p in pages)
    with pytest.raises(InvalidEntry, match="prints on A4-landscape, not A5"):
        collection_sheet_pdf(sheet, size="A5")


def test_a_group_without_shares_has_no_shares_column(demo_book):
    with demo_book.read() as s:
        sheet, _ = _next_sheet(s, "SR-BKNG-01")
    assert sheet.cycle.share_price is None
    text = pdf_text(collection_sheet_pdf(sheet, words=Words("en"), now=NOW))
    assert "Share price" not in text and "Shares" not in text
    assert "Compulsory" in text and f"{sheet.cycle.compulsory_savings:,}" in text


@pytest.mark.parametrize("code", ["SR-PUOK-01", "SR-BKNG-01"])
def test_every_word_of_the_sheet_fits_its_column(demo_book, code):
    with demo_book.read() as s:
        sheet, _ = _next_sheet(s, code)
    for lang in LANGS:
        words = Words(lang, khmer_digits=lang == "km")
        assert cells_too_narrow(collection_sheet_flowables(sheet, words=words)) == []
