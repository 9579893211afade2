"""A loan's life by worked example: apply, approve, lend at a meeting, repay, close."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledger.chart import GroupAccounts, balance_of
from ledger.loans import (
    LoanError,
    apply_for_loan,
    loan_statement,
    repay_at_meeting,
)
from ledger.meetings import open_meeting
from ledger.verify import verify_book
from tests.loan_helpers import WEEK, make_lent, meeting
from tests.savings_helpers import CYCLE_START, TODAY, khr


@pytest.fixture
def lent(book):
    return make_lent(book)


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
        m = open_meeting(s, v.group.id, CYCLE_START + WEEK, today=TODAY)
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
    book.write(lambda s: import_meetings(s, v.group.id, sheet, today=TODAY))
    again = book.write(lambda s: import_meetings(s, v.group.id, sheet, today=TODAY))
    assert again.meetings_already_present == 1
    with book.read() as s:
        st = loan_statement(s, loan.id, on=CYCLE_START + WEEK)
    assert st.interest_paid + st.principal_paid == 25400 and st.interest_paid == 300
    too_much = tmp_path / "too_much.csv"
    too_much.write_text(header + "2026-01-19,M01,yes,,,,,,,999999,0\n", encoding="utf-8")
    with pytest.raises(ImportRejected, match=r"Row 2: M01: .*settles all of M01's loans"):
        book.write(lambda s: import_meetings(s, v.group.id, too_much, today=TODAY))


def test_a_purpose_with_control_characters_is_refused(book, lent):
    v, _loan = lent
    with pytest.raises(LoanError, match="purpose contains control characters"):
        book.write(
            lambda s: apply_for_loan(
                s, v.group.id, "M02", "W4", khr(10_000), purpose="Seeds\x00", applied_on=CYCLE_START
            )
        )
