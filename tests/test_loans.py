"""A loan's life by worked example: apply, approve, lend at a meeting, repay, close."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledger.chart import GroupAccounts, balance_of
from ledger.loan_products import create_product
from ledger.loans import (
    LoanError,
    apply_for_loan,
    approve_loan,
    lend_at_meeting,
    loan_statement,
    repay_at_meeting,
)
from ledger.meetings import close_meeting, meeting_summary, open_meeting, set_line
from ledger.verify import verify_book
from tests.savings_helpers import CYCLE_START, TODAY, khr, make_vsla

WEEK = dt.timedelta(days=7)


@pytest.fixture
def lent(book):
    """A VSLA that saved 300,000 and lent M01 100,000 over 4 weeks at its first meeting."""
    v = make_vsla(book)

    def setup(s):
        create_product(
            s,
            v.group.id,
            "W4",
            "Four-week loan",
            rate_per_month=Decimal("0.013"),
            term_periods=4,
            frequency="weekly",
            created_by="chair",
            rounding_unit=khr(100),
        )
        m = open_meeting(s, v.group.id, CYCLE_START, "treasurer", today=TODAY)
        for code in ("M01", "M02", "M03"):
            set_line(s, m.id, code, savings=khr(100000))
        loan = apply_for_loan(
            s,
            v.group.id,
            "M01",
            "W4",
            khr(100000),
            purpose="Piglets",
            recorded_by="treasurer",
            applied_on=CYCLE_START,
            votes_for=3,
            votes_against=0,
        )
        with pytest.raises(LoanError, match="recorded this application and so cannot approve"):
            approve_loan(s, loan.id, "treasurer", on=CYCLE_START)
        approve_loan(s, loan.id, "chair", on=CYCLE_START)
        lend_at_meeting(s, m.id, loan.id)
        summary = meeting_summary(s, m.id)
        assert summary.cash_out == 100000 and summary.expected_cash == 200000
        close_meeting(s, m.id, khr(200000), "treasurer")
        return v, loan

    return book.write(setup)


def meeting(book, group_id, day, lines=(), repay=None, counted=None):
    def run(s):
        m = open_meeting(s, group_id, day, "treasurer", today=TODAY)
        for loan_id, amount in repay or []:
            repay_at_meeting(s, m.id, loan_id, khr(amount))
        summary = meeting_summary(s, m.id)
        return close_meeting(
            s, m.id, khr(counted if counted is not None else summary.expected_cash), "t"
        )

    return book.write(run)


def test_lending_makes_the_schedule_on_the_following_meetings(book, lent):
    v, loan = lent
    with book.read() as s:
        st = loan_statement(s, loan.id, on=CYCLE_START)
        accounts = GroupAccounts(s, v.group.id)
        assert balance_of(s, accounts.get("cash_box").id) == 200000
    assert st.loan.status == "disbursed" and st.principal_outstanding == 100000
    assert [i.due_on for i in st.instalments] == [CYCLE_START + k * WEEK for k in range(1, 5)]
    assert sum(i.principal for i in st.instalments) == 100000
    # 100,000 x 1.3 % x 12/52 = 300 interest in the first week.
    assert st.instalments[0].interest == 300
    assert all(i.status == "not yet due" for i in st.instalments)


def test_paying_the_instalment_splits_interest_then_principal(book, lent):
    v, loan = lent
    with book.read() as s:
        first = loan_statement(s, loan.id, on=CYCLE_START).instalments[0]
    meeting(book, v.group.id, CYCLE_START + WEEK, repay=[(loan.id, first.total)])
    with book.read() as s:
        st = loan_statement(s, loan.id, on=CYCLE_START + WEEK)
        income = -balance_of(s, GroupAccounts(s, v.group.id).get("interest_income").id)
    assert (st.interest_paid, st.principal_paid) == (first.interest, first.principal)
    assert st.instalments[0].status == "paid" and income == first.interest


def test_a_partial_payment_pays_interest_first_and_a_missed_week_is_overdue(book, lent):
    v, loan = lent
    meeting(book, v.group.id, CYCLE_START + WEEK, repay=[(loan.id, 200)])  # less than interest
    with book.read() as s:
        st = loan_statement(s, loan.id, on=CYCLE_START + WEEK)
    assert (st.interest_paid, st.principal_paid, st.interest_due) == (200, 0, 100)
    meeting(book, v.group.id, CYCLE_START + 2 * WEEK)  # pays nothing
    with book.read() as s:
        st = loan_statement(s, loan.id, on=CYCLE_START + 2 * WEEK + dt.timedelta(days=3))
    assert [i.status for i in st.instalments[:3]] == ["overdue", "overdue", "not yet due"]
    assert st.days_overdue == 10


def test_an_overpayment_is_refused_with_what_is_owed(book, lent):
    v, loan = lent

    def run(s):
        m = open_meeting(s, v.group.id, CYCLE_START + WEEK, "t", today=TODAY)
        repay_at_meeting(s, m.id, loan.id, khr(999999))

    with pytest.raises(LoanError, match=r"settled by 100,300 KHR at this meeting"):
        book.write(run)


def test_early_full_repayment_closes_the_loan(book, lent):
    v, loan = lent
    meeting(book, v.group.id, CYCLE_START + WEEK, repay=[(loan.id, 100300)])
    with book.read() as s:
        st = loan_statement(s, loan.id, on=CYCLE_START + WEEK)
        assert st.loan.status == "closed" and st.principal_outstanding == 0
        assert st.interest_paid == 300  # later weeks' interest is not charged
        assert balance_of(s, st.loan.account_id) == 0
        assert verify_book(s).ok


def test_the_database_refuses_a_self_approved_loan(book, lent):
    with pytest.raises(DBAPIError, match="maker_is_not_checker"), book.engine.begin() as c:
        c.execute(text("UPDATE loans SET approved_by = recorded_by"))


def test_repayments_from_the_collection_sheet(book, lent, tmp_path):
    from ledger.errors import ImportRejected
    from ledger.sheet_import import import_meetings

    v, loan = lent
    header = (
        "date,member,attended,savings,voluntary_savings,withdrawal,shares,social_fund,fine,"
        "loan_repayment,counted_cash\n"
    )
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(header + "2026-01-12,M01,yes,1000,,,,,,25400,226400\n", encoding="utf-8")
    book.write(lambda s: import_meetings(s, v.group.id, sheet, author="t", today=TODAY))
    again = book.write(lambda s: import_meetings(s, v.group.id, sheet, author="t", today=TODAY))
    assert again.meetings_already_present == 1
    with book.read() as s:
        st = loan_statement(s, loan.id, on=CYCLE_START + WEEK)
    assert st.interest_paid + st.principal_paid == 25400 and st.interest_paid == 300
    too_much = tmp_path / "too_much.csv"
    too_much.write_text(header + "2026-01-19,M01,yes,,,,,,,999999,0\n", encoding="utf-8")
    with pytest.raises(ImportRejected, match=r"Row 2: M01: .*settles all of M01's loans"):
        book.write(lambda s: import_meetings(s, v.group.id, too_much, author="t", today=TODAY))
