"""Portfolio at risk by worked example, including a rescheduled loan and a partly paid
overdue one, by group and aggregated by commune, district and province.

One VSLA in Puok lends on 5 January 2026 on a three-month product (1.5 % a month,
declining balance, equal instalments due on the first Monday of each month):

* A: M01, 100,000. Pays its February instalment in full, then nothing.
* B: M02, 200,000. Pays 20,000 of its February instalment (interest first).
* C: M03, 300,000. Pays nothing; rescheduled on 2 February over three new months.

As of 20 March 2026: A's March instalment is 18 days late, B's February one 46 days,
and C's first new instalment 18 days.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ledger.loan_events import reschedule_loan
from ledger.loan_products import create_product
from ledger.loans import apply_for_loan, approve_loan, lend_at_meeting, loan_statement
from ledger.meetings import close_meeting, meeting_summary, open_meeting, set_line
from ledger.permissions import acting_as
from ledger.portfolio import PortfolioError, loans_at_date, portfolio
from tests.helpers import CHAIR
from tests.loan_helpers import meeting
from tests.savings_helpers import CYCLE_START, TODAY, khr, make_vsla

FEB_2 = dt.date(2026, 2, 2)
AS_OF = dt.date(2026, 3, 20)


def lend_three(book, code="PK-01"):
    v = make_vsla(book, code)

    def run(s):
        create_product(
            s,
            v.group.id,
            "M3",
            "Three months",
            rate_per_month=Decimal("0.015"),
            term_periods=3,
            frequency="monthly",
        )
        m = open_meeting(s, v.group.id, CYCLE_START, today=TODAY)
        for member in ("M01", "M02", "M03"):
            set_line(s, m.id, member, savings=khr(300000))
        loans = {}
        for member, amount in (("M01", 100000), ("M02", 200000), ("M03", 300000)):
            loan = apply_for_loan(
                s,
                v.group.id,
                member,
                "M3",
                khr(amount),
                purpose="Trade",
                applied_on=CYCLE_START,
            )
            with acting_as(s, CHAIR):
                approve_loan(s, loan.id, on=CYCLE_START)
            lend_at_meeting(s, m.id, loan.id)
            loans[member] = loan
        close_meeting(s, m.id, khr(meeting_summary(s, m.id).expected_cash))
        return loans

    loans = book.write(run)
    with book.read() as s:
        a_first = loan_statement(s, loans["M01"].id, on=FEB_2).instalments[0]
    meeting(
        book, v.group.id, FEB_2, repay=[(loans["M01"].id, a_first.total), (loans["M02"].id, 20000)]
    )
    book.write(
        lambda s: reschedule_loan(s, loans["M03"].id, on=FEB_2, term_periods=3, reason="Sick child")
    )
    return v, loans


def test_par_by_the_standard_definition(book):
    lend_three(book)
    with book.read() as s:
        (row,) = portfolio(s, as_of=AS_OF)
        detail = {x.member_code: x for x in loans_at_date(s, as_of=AS_OF)}
    # 100,000 at 1.5 % over three months: instalments of 34,338; the first is 1,500
    # interest and 32,838 principal, leaving 67,162. B paid 3,000 interest and 17,000
    # principal of its 68,677, leaving 183,000. C owes all 300,000.
    assert {k: x.principal_outstanding for k, x in detail.items()} == {
        "M01": 67162,
        "M02": 183000,
        "M03": 300000,
    }
    assert {k: x.days_overdue for k, x in detail.items()} == {"M01": 18, "M02": 46, "M03": 18}
    assert row.gross_outstanding == 550162 and row.loans_active == 3
    assert row.buckets["1-30"] == (2, 67162 + 300000) and row.buckets["31-60"] == (1, 183000)
    # PAR30: B (over 30 days) plus C (rescheduled, though only 18 days late). A is not.
    assert row.at_risk_30 == 183000 + 300000
    assert row.par30 == Decimal(483000) / Decimal(550162)
    # PAR90: no loan is over 90 days late, but the rescheduled loan always counts.
    assert row.at_risk_90 == 300000 and row.rescheduled_outstanding == 300000
    # Arrears: principal fallen due and unpaid. A: March's 33,331. B: 65,677 + 66,662 -
    # 17,000. C: the first new instalment's 98,515.
    assert row.principal_in_arrears == 33331 + 115339 + 98515
    assert round(row.arrears_rate, 4) == Decimal("0.4493")
    # Repayment rate: paid 34,338 + 20,000 of the 68,676 + 137,354 + 107,515 due.
    assert (row.paid_towards_due, row.due_to_date) == (54338, 313545)
    assert row.par30 > row.arrears_rate  # the two are different measures


def test_as_of_an_earlier_date_nothing_was_at_risk(book):
    lend_three(book)
    with book.read() as s:
        (row,) = portfolio(s, as_of=dt.date(2026, 1, 31))
    assert row.gross_outstanding == 600000 and row.buckets["current"] == (3, 600000)
    assert row.par30 == 0 and row.rescheduled_outstanding == 0
    with book.read() as s:
        (before,) = portfolio(s, as_of=dt.date(2026, 1, 4))
    assert before.gross_outstanding == 0 and before.par30 is None


def test_by_commune_district_and_province(book):
    lend_three(book, "PK-01")
    lend_three(book, "PK-02")
    make_vsla(book, "PK-03")  # no loans yet
    with book.read() as s:
        by_group = portfolio(s, as_of=AS_OF)
        (commune,) = portfolio(s, as_of=AS_OF, by="commune")
        (province,) = portfolio(s, as_of=AS_OF, by="province")
        (one,) = portfolio(s, as_of=AS_OF, group_codes=["PK-02"])
    assert [r.key for r in by_group] == ["PK-01", "PK-02", "PK-03"]
    assert by_group[2].gross_outstanding == 0 and by_group[2].par30 is None
    assert (commune.name, commune.groups) == ("Puok", 3)
    assert commune.gross_outstanding == 2 * 550162 and commune.at_risk_30 == 2 * 483000
    assert province.name == "Siemreap" and province.name_khmer == "សៀមរាប"
    assert one.gross_outstanding == 550162


def test_a_written_off_loan_leaves_the_portfolio(book):
    from ledger.loan_events import write_off_loan

    _v, loans = lend_three(book)
    book.write(lambda s: write_off_loan(s, loans["M02"].id, on=dt.date(2026, 3, 9), reason="Left"))
    with book.read() as s:
        (row,) = portfolio(s, as_of=AS_OF)
    assert row.gross_outstanding == 67162 + 300000 and row.written_off == 183000
    assert row.at_risk_30 == 300000


def test_unknown_group_or_level_is_refused(book):
    make_vsla(book)
    with book.read() as s, pytest.raises(PortfolioError, match="no group 'XX'"):
        portfolio(s, as_of=AS_OF, group_codes=["XX"])
    with book.read() as s, pytest.raises(PortfolioError, match="not 'village'"):
        portfolio(s, as_of=AS_OF, by="village")


def test_a_loan_repaid_early_counts_as_fully_repaid(book):
    from tests.loan_helpers import make_lent

    v, loan = make_lent(book)
    meeting(book, v.group.id, CYCLE_START + dt.timedelta(days=7), repay=[(loan.id, 100300)])
    with book.read() as s:
        (row,) = portfolio(s, as_of=dt.date(2026, 3, 1))
    # All four instalments (100,750 scheduled) have fallen due, but the loan was settled
    # in week one with 100,300: nothing is in arrears and the repayment rate is 100 %.
    assert row.loans_active == 0 and row.repayment_rate == 1
