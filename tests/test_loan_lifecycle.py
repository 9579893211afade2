"""A loan in trouble, by worked example: late penalties, the repayment order, a reschedule,
a write-off and what is recovered after it, lending from the bank, a cancelled meeting.

The loan of ``make_lent``: 100,000 KHR over four weekly instalments of 25,200 (the last
25,150) at 1.3 % a month, lent on Monday 5 January 2026; instalment 1 (24,900 principal,
300 interest) falls due on 12 January, instalment 2 (24,975 + 225) on 19 January.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledger.cancellations import cancel_meeting_day
from ledger.chart import GroupAccounts, balance_of
from ledger.errors import MeetingError
from ledger.loan_events import reschedule_loan, write_off_loan
from ledger.loan_products import LoanProductError
from ledger.loans import (
    LoanError,
    lend_at_meeting,
    loan_statement,
    repay_at_meeting,
)
from ledger.meetings import add_item, close_meeting, meeting_summary, open_meeting, set_line
from ledger.verify import verify_book
from tests.loan_helpers import WEEK, add_product, approved_loan, make_lent, meeting
from tests.savings_helpers import CYCLE_START, TODAY, khr, make_vsla

JAN_12, JAN_19, JAN_26 = (CYCLE_START + k * WEEK for k in (1, 2, 3))


def income(book, group_id, role):
    with book.read() as s:
        return -balance_of(s, GroupAccounts(s, group_id).get(role).id)


def statement(book, loan_id, on):
    with book.read() as s:
        return loan_statement(s, loan_id, on=on)


def test_a_missed_instalment_costs_the_penalty_once_and_is_paid_first(book):
    v, loan = make_lent(book, late_penalty=khr(1000))
    meeting(book, v.group.id, JAN_12)  # pays nothing
    on_19 = statement(book, loan.id, JAN_19)
    # Instalment 1 was not paid by 12 January: one penalty. Instalment 2 is due today,
    # not late yet.
    assert (on_19.penalty_due, on_19.interest_due) == (1000, 300 + 225)
    assert [i.late for i in on_19.instalments] == [True, False, False, False]
    assert on_19.owed_now == 1000 + 525 + 100000
    # To be up to date she pays the penalty and both instalments: what the sheet asks.
    assert on_19.due_now == 1000 + 25200 + 25200
    meeting(book, v.group.id, JAN_19, repay=[(loan.id, 1200)])
    after = statement(book, loan.id, JAN_19)
    assert (after.penalty_paid, after.interest_paid, after.principal_paid) == (1000, 200, 0)
    assert income(book, v.group.id, "penalty_income") == 1000
    assert income(book, v.group.id, "interest_income") == 200
    # A week later instalment 2 is late too: a second penalty, and no more for instalment 1.
    assert statement(book, loan.id, JAN_26).penalty_due == 1000


def test_a_product_may_pay_interest_and_principal_before_penalties(book):
    v, loan = make_lent(book, late_penalty=khr(1000), allocation_order="interest,principal,penalty")
    meeting(book, v.group.id, JAN_12)
    meeting(book, v.group.id, JAN_19, repay=[(loan.id, 1200)])
    after = statement(book, loan.id, JAN_19)
    assert (after.interest_paid, after.principal_paid, after.penalty_paid) == (525, 675, 0)
    assert after.penalty_due == 1000


def test_a_repayment_order_must_name_each_part_once(book):
    v = make_vsla(book)
    with pytest.raises(LoanProductError, match="penalty, interest and principal once each"):
        book.write(
            lambda s: add_product(s, v.group.id, allocation_order="interest,interest,principal")
        )


def test_paying_on_time_costs_no_penalty(book):
    v, loan = make_lent(book, late_penalty=khr(1000))
    meeting(book, v.group.id, JAN_12, repay=[(loan.id, 25200)])
    st = statement(book, loan.id, JAN_19)
    assert st.penalty_due == 0 and st.instalments[0].status == "paid"


def test_rescheduling_spreads_what_is_owed_and_keeps_the_old_schedule(book):
    v, loan = make_lent(book)
    meeting(book, v.group.id, JAN_12)
    meeting(book, v.group.id, JAN_19)
    new = book.write(
        lambda s: reschedule_loan(
            s, loan.id, on=JAN_19, term_periods=8, reason="Flooded rice field"
        )
    )
    assert new.rescheduled and new.version == 2 and new.loan.rescheduled
    assert len(new.instalments) == 8
    assert sum(i.principal for i in new.instalments) == 100000
    assert new.instalments[0].due_on == JAN_26 and new.instalments[0].number == 5
    assert new.interest_due == 0 and new.days_overdue == 0
    first = new.instalments[0]
    meeting(book, v.group.id, JAN_26, repay=[(loan.id, first.total)])
    paid = statement(book, loan.id, JAN_26)
    assert paid.instalments[0].status == "paid" and paid.interest_paid >= 525
    # As of 12 January the loan stood on its first schedule, one instalment due.
    old = statement(book, loan.id, JAN_12)
    assert old.version == 1 and not old.rescheduled and len(old.instalments) == 4
    with book.read() as s:
        assert verify_book(s).ok


def test_the_first_new_instalment_carries_the_interest_owed(book):
    v, loan = make_lent(book)
    meeting(book, v.group.id, JAN_12)
    meeting(book, v.group.id, JAN_19)
    plain = book.write(
        lambda s: reschedule_loan(s, loan.id, on=JAN_19, term_periods=1, reason="Illness")
    )
    # One instalment: all the principal, a week's interest on it, and the 525 owed.
    assert plain.instalments[0].principal == 100000
    assert plain.instalments[0].interest == 525 + 300


def test_a_reschedule_needs_a_reason_and_a_closed_sheet(book):
    v, loan = make_lent(book)
    with pytest.raises(LoanError, match="Say why"):
        book.write(lambda s: reschedule_loan(s, loan.id, on=JAN_12, term_periods=4, reason=" "))

    def pending(s):
        m = open_meeting(s, v.group.id, JAN_12, today=TODAY)
        repay_at_meeting(s, m.id, loan.id, khr(1000))
        reschedule_loan(s, loan.id, on=JAN_12, term_periods=4, reason="x")

    with pytest.raises(LoanError, match="has a repayment of loan #1 on its sheet"):
        book.write(pending)
    meeting(book, v.group.id, JAN_12, repay=[(loan.id, 1000)])
    with pytest.raises(LoanError, match="last repaid on 2026-01-12"):
        book.write(
            lambda s: reschedule_loan(s, loan.id, on=CYCLE_START, term_periods=4, reason="x")
        )


def test_write_off_then_recovery(book):
    v, loan = make_lent(book)
    meeting(book, v.group.id, JAN_12, repay=[(loan.id, 25200)])
    feb_20 = dt.date(2026, 2, 20)
    st = book.write(
        lambda s: write_off_loan(s, loan.id, on=feb_20, reason="Member moved to Thailand")
    )
    assert st.state == "written off" and st.written_off == 75100 and st.owed_now == 75100
    assert st.principal_outstanding == 0
    with book.read() as s:
        assert balance_of(s, st.loan.account_id) == 0
        losses = GroupAccounts(s, v.group.id).get("loan_losses").id
        assert balance_of(s, losses) == 75100
    # Before the write-off date the loan was still outstanding and overdue.
    before = statement(book, loan.id, dt.date(2026, 2, 19))
    assert before.state == "active" and before.principal_outstanding == 75100
    march_2 = dt.date(2026, 3, 2)
    meeting(book, v.group.id, march_2, repay=[(loan.id, 30000)])
    after = statement(book, loan.id, march_2)
    assert (after.recovered, after.owed_now) == (30000, 45100)
    assert income(book, v.group.id, "recoveries") == 30000

    def too_much(s):
        m = open_meeting(s, v.group.id, march_2 + WEEK, today=TODAY)
        repay_at_meeting(s, m.id, loan.id, khr(50000))

    with pytest.raises(LoanError, match="has 45,100 KHR left to recover"):
        book.write(too_much)
    with pytest.raises(LoanError, match="is written_off; only a loan being repaid"):
        book.write(lambda s: write_off_loan(s, loan.id, on=march_2, reason="again"))
    with book.read() as s:
        assert verify_book(s).ok


def test_lending_from_the_bank_leaves_the_cash_box_alone(book):
    v, loan = make_lent(book, source="bank")
    with book.read() as s:
        accounts = GroupAccounts(s, v.group.id)
        # 300,000 saved, 150,000 taken to the bank, 100,000 of it lent.
        assert balance_of(s, accounts.get("cash_box").id) == 150000
        assert balance_of(s, accounts.get("bank").id) == 50000
        assert loan_statement(s, loan.id, on=CYCLE_START).loan.disburse_from == "bank"


def test_lending_from_an_empty_bank_is_refused(book):
    v = make_vsla(book)

    def run(s):
        add_product(s, v.group.id)
        m = open_meeting(s, v.group.id, CYCLE_START, today=TODAY)
        loan = approved_loan(s, v.group.id, "M02", 50000)
        lend_at_meeting(s, m.id, loan.id, source="bank")

    with pytest.raises(
        LoanError,
        match=r"bank account will hold 0 KHR after .* the loans lent from it need 50,000 KHR",
    ):
        book.write(run)


def test_instalments_skip_a_meeting_called_off_in_advance(book):
    v = make_vsla(book, "CX-01")
    book.write(lambda s: cancel_meeting_day(s, v.group.id, JAN_19, reason="Village festival"))
    _other, loan = make_lent(book, code="PK-02")  # another group: its meetings are unaffected
    assert [i.due_on for i in statement(book, loan.id, CYCLE_START).instalments][1] == JAN_19

    def lend(s):
        add_product(s, v.group.id)
        m = open_meeting(s, v.group.id, CYCLE_START, today=TODAY)
        set_line(s, m.id, "M01", savings=khr(60000))
        loan = approved_loan(s, v.group.id, "M02", 50000)
        lend_at_meeting(s, m.id, loan.id)
        close_meeting(s, m.id, khr(10000))
        return loan

    moved = book.write(lend)
    dates = [i.due_on for i in statement(book, moved.id, CYCLE_START).instalments]
    assert dates == [JAN_12, JAN_26, JAN_26 + WEEK, JAN_26 + 2 * WEEK]
    with pytest.raises(MeetingError, match="Meeting #1 was held on 2026-01-05"):
        book.write(lambda s: cancel_meeting_day(s, v.group.id, CYCLE_START, reason="x"))


def test_the_database_keeps_schedules_and_decisions_as_they_were(book):
    _v, loan = make_lent(book)
    book.write(lambda s: write_off_loan(s, loan.id, on=JAN_26, reason="Died"))
    for sql in (
        "UPDATE loan_instalments SET principal = 0",
        "DELETE FROM loan_instalments",
        "UPDATE loan_events SET amount = 1",
        "DELETE FROM loan_events",
    ):
        with pytest.raises(DBAPIError, match="never changed or deleted"), book.engine.begin() as c:
            c.execute(text(sql))


def test_a_member_with_a_loan_leaves_only_once_it_is_settled(book):
    v, loan = make_lent(book)

    def leave(s, repay=None):
        m = open_meeting(s, v.group.id, JAN_12, today=TODAY)
        add_item(s, m.id, "member_exit", member_code="M01")
        if repay:
            repay_at_meeting(s, m.id, loan.id, khr(repay))
        return close_meeting(s, m.id, khr(meeting_summary(s, m.id).expected_cash))

    with pytest.raises(MeetingError, match=r"M01 still owes 100,300 KHR on loan #1"):
        book.write(leave)
    closed = book.write(lambda s: leave(s, repay=100300))
    assert closed.meeting.status == "closed"
    assert statement(book, loan.id, JAN_12).state == "closed"
