"""Loans and grants the group receives, by worked example.

An MFI lends the Puok group 2,000,000 KHR on 1 February 2026 at 1.2 % a month over six
monthly instalments (declining balance, equal instalments), into its bank account; a
project gives a matching grant of 500,000 KHR.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledger.borrowings import (
    BorrowingError,
    add_months,
    borrowing_statement,
    list_borrowings,
    pay_borrowing,
    receive_borrowing,
)
from ledger.chart import GroupAccounts, balance_of
from ledger.positions import group_position
from ledger.verify import verify_book
from tests.savings_helpers import khr, make_vsla

FEB_1 = dt.date(2026, 2, 1)
MAR_1 = dt.date(2026, 3, 1)


def receive_mfi_loan(book):
    v = make_vsla(book)
    loan = book.write(
        lambda s: receive_borrowing(
            s,
            v.group.id,
            lender="Prasac MFI",
            kind="loan",
            amount=khr(2_000_000),
            received_on=FEB_1,
            purpose="On-lending to members for the rice season",
            rate_per_month=Decimal("0.012"),
            term_periods=6,
        )
    )
    return v, loan


def roles(book, group_id, *names):
    with book.read() as s:
        accounts = GroupAccounts(s, group_id)
        return [balance_of(s, accounts.get(n).id) for n in names]


def test_a_loan_to_the_group_with_its_schedule(book):
    v, loan = receive_mfi_loan(book)
    with book.read() as s:
        st = borrowing_statement(s, v.group.id, loan.number, on=FEB_1)
        assert group_position(s, v.group.id, on=FEB_1).borrowings_outstanding == 2_000_000
    assert [i.due_on for i in st.standing.instalments][:3] == [
        MAR_1,
        dt.date(2026, 4, 1),
        dt.date(2026, 5, 1),
    ]
    assert sum(i.principal for i in st.standing.instalments) == 2_000_000
    # 2,000,000 x 1.2 % = 24,000 interest in the first month.
    first = st.standing.instalments[0]
    assert first.interest == 24_000
    assert roles(book, v.group.id, "bank") == [2_000_000]
    paid = book.write(
        lambda s: pay_borrowing(s, v.group.id, loan.number, khr(first.total), paid_on=MAR_1)
    )
    assert paid.standing.instalments[0].status == "paid"
    assert paid.standing.principal_outstanding == 2_000_000 - first.principal
    bank, interest = roles(book, v.group.id, "bank", "interest_expense")
    assert (bank, interest) == (2_000_000 - first.total, 24_000)
    with book.read() as s:
        assert verify_book(s).ok


def test_paying_more_than_is_owed_or_than_the_bank_holds_is_refused(book):
    v, loan = receive_mfi_loan(book)

    def pay(amount, on=MAR_1):
        return book.write(
            lambda s: pay_borrowing(s, v.group.id, loan.number, khr(amount), paid_on=on)
        )

    with pytest.raises(BorrowingError, match=r"2,024,000 KHR settles loan #1 on 2026-03-01"):
        pay(3_000_000)
    with pytest.raises(BorrowingError, match="cannot be dated before 2026-02-01"):
        pay(1000, dt.date(2026, 1, 31))
    # On 1 March 2,024,000 settles it, but the bank holds only the 2,000,000 received.
    with pytest.raises(BorrowingError, match="bank account holds 2,000,000 KHR; the payment"):
        pay(2_024_000)
    with book.read() as s:
        assert verify_book(s).entries == 1


def test_a_grant_is_income_and_owes_nothing(book):
    v = make_vsla(book)
    grant = book.write(
        lambda s: receive_borrowing(
            s,
            v.group.id,
            lender="Commune development project",
            kind="grant",
            amount=khr(500_000),
            received_on=FEB_1,
            purpose="Matching grant",
        )
    )
    assert grant.account_id is None
    assert roles(book, v.group.id, "bank", "grants") == [500_000, -500_000]
    with pytest.raises(BorrowingError, match="is a grant; nothing is repaid"):
        book.write(lambda s: pay_borrowing(s, v.group.id, 1, khr(1), paid_on=MAR_1))
    with book.read() as s:
        assert [b.kind for b in list_borrowings(s, v.group.id)] == ["grant"]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"lender": " "}, "Name the lender"),
        ({"purpose": ""}, "Say what the money is for"),
        ({"kind": "gift"}, "a loan or a grant, not 'gift'"),
        ({"amount": khr(0)}, "more than zero"),
        ({"term_periods": None}, "1 to 520 repayments"),
        ({"rate_per_month": Decimal("1.5")}, "exact monthly rate"),
        ({"frequency": "daily"}, "not 'daily'"),
    ],
)
def test_bad_terms_are_refused_and_nothing_is_written(book, changes, reason):
    v = make_vsla(book)
    terms = {
        "lender": "MFI",
        "kind": "loan",
        "amount": khr(1000),
        "received_on": FEB_1,
        "purpose": "x",
        "rate_per_month": Decimal("0.01"),
        "term_periods": 3,
    } | changes
    with pytest.raises(BorrowingError, match=reason):
        book.write(lambda s: receive_borrowing(s, v.group.id, **terms))
    with book.read() as s:
        assert list_borrowings(s, v.group.id) == [] and verify_book(s).entries == 0


def test_the_database_keeps_the_lender_schedule_as_it_was(book):
    receive_mfi_loan(book)
    for sql in (
        "UPDATE group_borrowing_instalments SET interest = 0",
        "DELETE FROM group_borrowing_instalments",
    ):
        with pytest.raises(DBAPIError, match="never changed or deleted"), book.engine.begin() as c:
            c.execute(text(sql))


def test_month_ends_stay_in_their_month():
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)
