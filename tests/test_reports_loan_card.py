"""The loan card: its figures against the loan's statement, and its printed pages."""

from __future__ import annotations

import datetime as dt

import pytest
from reportlab.platypus import KeepTogether, Paragraph, Table
from sqlalchemy import func, select

from ledger.groups import find_group
from ledger.loan_card import loan_card
from ledger.loan_products import get_product
from ledger.loans import LoanError, loan_statement
from ledger.models import Loan, Meeting, MeetingRepayment
from reports.loan_card import loan_card_flowables, loan_card_pdf
from reports.options import LANGS
from reports.text import Words
from tests.conftest import DEMO_TODAY
from tests.helpers import read
from tests.loan_helpers import add_product, approved_loan
from tests.report_helpers import inked_share, page_images, pdf_text
from tests.savings_helpers import CYCLE_START, khr, make_vsla

NOW = dt.datetime(2026, 11, 22, 9, 30)


def cells_too_narrow(flowables: list) -> list[tuple[int, int, str]]:  # type: ignore[type-arg]
    """Every table cell whose longest word (a Khmer label has no spaces) is wider than its
    column: ReportLab would cut such a word in two."""
    found = []
    for t in _tables(flowables):
        spans = {}
        rows, cols = len(t._cellvalues), len(t._colWidths)
        for _, (c0, r0), (c1, r1) in (cmd[:3] for cmd in t._spanCmds):
            for r in range(r0 % rows, r1 % rows + 1):
                spans[(r, c0 % cols)] = sum(t._colWidths[c0 % cols : c1 % cols + 1])
        for r, row in enumerate(t._cellvalues):
            for c, cell in enumerate(row):
                room = spans.get((r, c), t._colWidths[c]) - 6  # less the cell's padding
                for p in cell if isinstance(cell, list) else [cell]:
                    if isinstance(p, Paragraph) and p.minWidth() > room + 0.5:
                        found.append((r, c, p.text))
    return found


def _tables(flowables: list):  # type: ignore[no-untyped-def,type-arg]
    for f in flowables:
        if isinstance(f, Table):
            yield f
            for row in f._cellvalues:
                yield from _tables([cell for cell in row if isinstance(cell, Table)])
        elif isinstance(f, KeepTogether):
            yield from _tables(f._content)


def _busiest_loan(session, group_code: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(group id, loan number) of the group's loan with the most repayments."""
    group = find_group(session, group_code)
    number = session.execute(
        select(Loan.number)
        .join(MeetingRepayment, MeetingRepayment.loan_id == Loan.id)
        .where(Loan.group_id == group.id)
        .group_by(Loan.number)
        .order_by(func.count().desc(), Loan.number)
        .limit(1)
    ).scalar_one()
    return group.id, number


def test_the_card_shows_the_loan_statement_and_every_payment(demo_book):
    with demo_book.read() as s:
        group_id, number = _busiest_loan(s, "SR-PUOK-01")
        card = loan_card(s, group_id, number, on=DEMO_TODAY)
        loan_id = card.statement.loan.id
        statement = loan_statement(s, loan_id, on=DEMO_TODAY)
        repaid = s.execute(
            select(func.sum(MeetingRepayment.amount))
            .join(Meeting, Meeting.id == MeetingRepayment.meeting_id)
            .where(MeetingRepayment.loan_id == loan_id, Meeting.status == "closed")
        ).scalar_one()
        product = get_product(s, s.get(Loan, loan_id).product_id)
    assert card.statement == statement
    assert card.instalments == statement.instalments and card.instalments
    assert card.product == product
    assert card.paid == repaid
    assert sum(p.principal for p in card.payments) == statement.principal_paid
    assert sum(p.interest for p in card.payments) == statement.interest_paid
    assert sum(p.penalty for p in card.payments) == statement.penalty_paid
    assert [p.paid_on for p in card.payments] == sorted(p.paid_on for p in card.payments)
    assert card.paid_on_schedule == sum(i.paid for i in statement.instalments)
    assert card.head_seq > 0 and len(card.head_hash) == 64


def test_an_earlier_card_counts_only_the_payments_made_by_its_date(demo_book):
    with demo_book.read() as s:
        group_id, number = _busiest_loan(s, "SR-PUOK-01")
        now = loan_card(s, group_id, number, on=DEMO_TODAY)
        middle = now.payments[len(now.payments) // 2].paid_on
        then = loan_card(s, group_id, number, on=middle)
        assert then.statement == loan_statement(s, now.statement.loan.id, on=middle)
    assert then.payments == tuple(p for p in now.payments if p.paid_on <= middle)
    assert len(then.payments) < len(now.payments)


def test_a_loan_not_lent_yet_has_a_card_without_schedule(book, tmp_path):
    v = make_vsla(book)

    def setup(s):  # type: ignore[no-untyped-def]
        add_product(s, v.group.id, late_penalty=khr(500))
        return approved_loan(s, v.group.id, "M02", 40_000).number

    number = book.write(setup)
    card = read(book, lambda s: loan_card(s, v.group.id, number, on=CYCLE_START))
    assert card.statement.state == "not lent"
    assert card.instalments == () and card.payments == () and card.paid == 0
    assert card.approved_on == CYCLE_START and card.member.code == "M02"
    pdf = loan_card_pdf(card, words=Words("en"), now=NOW)
    text = " ".join(pdf_text(pdf).split())
    assert "Not lent" in text and "No payments yet" in text and "40,000 KHR" in text
    assert "Chan Sophea" in text and "500 KHR" in text
    (page,) = page_images(pdf, tmp_path, "loan-card-not-lent")
    assert inked_share(page) > 0.005


def test_an_unknown_loan_has_no_card(demo_book):
    with demo_book.read() as s:
        group = find_group(s, "SR-PUOK-01")
        with pytest.raises(LoanError, match="no loan #999"):
            loan_card(s, group.id, 999, on=DEMO_TODAY)


def test_the_card_prints_its_schedule_in_english_and_khmer(demo_book, tmp_path):
    with demo_book.read() as s:
        group_id, number = _busiest_loan(s, "SR-PUOK-01")
        card = loan_card(s, group_id, number, on=DEMO_TODAY)
    both = loan_card_pdf(card, now=NOW)
    text = " ".join(pdf_text(both).split())  # a label may wrap in its cell
    for label in ("Loan card", "Schedule", "Payments", "Principal outstanding", "Paid"):
        assert label in text, label
    assert card.member.name_latin in text
    assert f"{card.instalments[0].total:,}" in text
    assert f"{card.statement.loan.principal_lent:,} KHR" in text
    assert f"{card.paid:,}" in text
    assert "22-11-2026 09:30" in text
    khmer = loan_card_pdf(card, words=Words("km", khmer_digits=True), size="A5", now=NOW)
    shown = pdf_text(khmer)
    assert "Loan card" not in shown and f"{card.paid:,}" not in shown
    english = pdf_text(loan_card_pdf(card, words=Words("en"), now=NOW))
    assert "Loan card" in english and "កម្ចី" not in english
    for name, pdf in (("both-A4", both), ("km-A5", khmer)):
        pages = page_images(pdf, tmp_path, f"loan-card-{name}")
        assert pages and all(inked_share(p) > 0.005 for p in pages)


@pytest.mark.parametrize("size", ["A4", "A5"])
def test_every_word_of_the_card_fits_its_column(demo_book, size):
    with demo_book.read() as s:
        group_id, number = _busiest_loan(s, "SR-ACHM-01")
        card = loan_card(s, group_id, number, on=DEMO_TODAY)
    for lang in LANGS:
        words = Words(lang, khmer_digits=lang == "km")
        assert cells_too_narrow(loan_card_flowables(card, words=words, size=size)) == []
