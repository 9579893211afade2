"""Starting from paper: loans members still owe on the cut-off date (issue #3, item 6).

The group meets on Mondays. Its paper books, closed on Sunday 1 March 2026, show M01 with
two loans on the monthly product and M02 with one on the weekly product.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.chart import balance_of
from ledger.errors import ImportRejected
from ledger.loan_products import create_product
from ledger.loans import loan_statement, loans_of_member
from ledger.opening_loans import import_opening_loans
from ledger.positions import group_position, member_position
from ledger.verify import verify_book
from tests.loan_helpers import meeting
from tests.savings_helpers import make_vsla

CUT_OFF = dt.date(2026, 3, 1)
HEADER = "member,product,amount,disbursed_on,outstanding,instalments_left,purpose\n"
LOANS = HEADER + (
    "M01,M6,600000,2026-01-05,400000,4,Rice seed\n"
    "M01,M6,200000,2026-02-02,200000,,Fertiliser\n"
    "M02,W4,100000,2026-02-16,50000,2,\n"
)


@pytest.fixture
def group(book):
    v = make_vsla(book)

    def products(s):
        for code, frequency, term in (("M6", "monthly", 6), ("W4", "weekly", 4)):
            create_product(
                s,
                v.group.id,
                code,
                code,
                rate_per_month=Decimal("0.015"),
                term_periods=term,
                frequency=frequency,
            )

    book.write(products)
    return v


def load(book, group_id, path, author="treasurer"):
    return book.write(lambda s: import_opening_loans(s, group_id, path, as_of=CUT_OFF))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "loans.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_loans_from_the_paper_books(book, group, tmp_path):
    path = write(tmp_path, LOANS)
    summary = load(book, group.group.id, path)
    assert (summary.loans_created, summary.loans_already_present) == (3, 0)
    assert summary.principal_carried == 650000
    m01, m02 = group.members["M01"], group.members["M02"]
    with book.read() as s:
        first, second = loans_of_member(s, m01.id)
        st = loan_statement(s, first.id, on=CUT_OFF)
        assert (first.amount, first.opening_principal, first.approved_by) == (
            600000,
            400000,
            "(paper books)",
        )
        assert st.principal_outstanding == 400000 and balance_of(s, first.account_id) == 400000
        # Four instalments on the first Mondays of the following months, summing exactly.
        assert [i.due_on for i in st.instalments] == [
            dt.date(2026, 3, 2),
            dt.date(2026, 4, 6),
            dt.date(2026, 5, 4),
            dt.date(2026, 6, 1),
        ]
        assert sum(i.principal for i in st.instalments) == 400000
        assert len(loan_statement(s, second.id, on=CUT_OFF).instalments) == 6
        assert member_position(s, m01.id).loans_outstanding == 600000
        assert member_position(s, m02.id).loans_outstanding == 50000
        assert group_position(s, group.group.id, on=CUT_OFF).loans_outstanding == 650000
        assert verify_book(s).ok
    again = load(book, group.group.id, path)
    assert (again.loans_created, again.loans_already_present) == (0, 3)


def test_a_carried_over_loan_is_repaid_at_meetings(book, group, tmp_path):
    load(book, group.group.id, write(tmp_path, LOANS))
    with book.read() as s:
        loan = loans_of_member(s, group.members["M02"].id)[0]
        due = loan_statement(s, loan.id, on=dt.date(2026, 3, 2)).instalments[0]
    assert due.due_on == dt.date(2026, 3, 2)
    meeting(book, group.group.id, dt.date(2026, 3, 2), repay=[(loan.id, due.total)])
    with book.read() as s:
        st = loan_statement(s, loan.id, on=dt.date(2026, 3, 2))
        assert st.instalments[0].status == "paid"
        assert st.principal_outstanding == 50000 - due.principal
        assert balance_of(s, loan.account_id) == 50000 - due.principal


def test_a_different_outstanding_for_a_loan_already_carried_over_is_refused(book, group, tmp_path):
    load(book, group.group.id, write(tmp_path, LOANS))
    changed = LOANS.replace("400000,4", "350000,4")
    with pytest.raises(ImportRejected, match="Row 2: M01's loan of 2026-01-05 was already"):
        load(book, group.group.id, write(tmp_path, changed))


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("M09,M6,1000,2026-01-05,500,,", "no member with code 'M09'"),
        ("M01,Q9,1000,2026-01-05,500,,", "product 'Q9' is not one of the group's (M6, W4)"),
        ("M01,M6,1000,2026-01-05,1500,,", "at most the amount lent (1,000 KHR)"),
        ("M01,M6,1000,2026-01-05,0,,", "a repaid loan is not carried over"),
        ("M01,M6,1000,2026-03-02,500,,", "disbursed_on is after the cut-off date"),
        ("M01,M6,1000,05/01/2026,500,,", "disbursed_on '05/01/2026' is not a date"),
        ("M01,M6,1000,2026-01-05,500,two,", "instalments_left 'two' is not a number"),
        ("M01,M6,1000,2025-12-01,500,,", "M01 joined on 2026-01-05, after the loan was lent"),
        ("M01,M6,-1000,2026-01-05,500,,", "cannot be negative"),
    ],
)
def test_bad_loan_rows_name_the_row_and_write_nothing(book, group, tmp_path, row, reason):
    with pytest.raises(ImportRejected) as caught:
        load(book, group.group.id, write(tmp_path, HEADER + row + "\n"))
    assert caught.value.row == 2 and reason in str(caught.value)
    with book.read() as s:
        assert verify_book(s).entries == 0
        assert loans_of_member(s, group.members["M01"].id) == []


def test_the_same_loan_twice_in_one_file_is_refused(book, group, tmp_path):
    twice = HEADER + "M01,M6,1000,2026-01-05,500,,\nM01,M6,1000,2026-01-05,500,,\n"
    with pytest.raises(ImportRejected, match="Row 3: The same loan of M01 is already on row 2"):
        load(book, group.group.id, write(tmp_path, twice))
