"""The SAVIX data items and SEEP ratios, checked against the ledger's own figures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from ledger.errors import InvalidEntry, UnknownGroup
from ledger.groups import find_group
from ledger.indicators import (
    SUMMED,
    TOTAL_CODE,
    group_indicators,
    indicator_report,
    quarter,
)
from ledger.loan_events import write_off_loan
from ledger.members import list_members
from ledger.models import Meeting
from ledger.portfolio import group_portfolio
from ledger.positions import group_position, meeting_payments
from ledger.statements import balance_sheets, income_and_expenditure
from tests.loan_helpers import WEEK, make_lent, meeting
from tests.savings_helpers import CYCLE_START

Q4 = quarter("2026Q4")  # the demo meets from 2026-08-31 to 2026-11-22
PUOK = "SR-PUOK-01"


def test_quarters():
    assert quarter("2026Q3") == (dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    assert quarter("2026-q4") == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert quarter("2027Q1") == (dt.date(2027, 1, 1), dt.date(2027, 3, 31))
    with pytest.raises(InvalidEntry, match="'2026Q5' is not a quarter"):
        quarter("2026Q5")


def test_one_group_by_hand(demo_book):
    """Every figure of a quarter, recomputed from the books in the plainest way."""
    start, end = Q4
    before = start - dt.timedelta(days=1)
    with demo_book.read() as s:
        group = find_group(s, PUOK)
        got = group_indicators(s, group.id, start=start, end=end)
        members = list_members(s, group.id)
        # Nothing is dated after the demo's last meeting, so on the quarter's last day
        # the balances are the book's current (cached) ones: the group position.
        position = group_position(s, group.id, on=end)
        sheet = balance_sheets(s, group.id, end)[0]
        assets_before = balance_sheets(s, group.id, before)[0].total_assets
        income = income_and_expenditure(s, group.id, start, end)[0]
        portfolio = group_portfolio(s, group.id, as_of=end)
        paid = [meeting_payments(s, m, start, end) for m in members]
        held = s.execute(
            select(Meeting.meeting_date).where(
                Meeting.group_id == group.id,
                Meeting.status == "closed",
                Meeting.meeting_date.between(start, end),
            )
        ).all()
    at_end = [m for m in members if m.active_on(end)]
    assert got.members_end == len(at_end) == position.members == 14
    assert got.women_end == position.women and got.men_end == 2
    assert got.members_start == len([m for m in members if m.active_on(before)]) == 15
    assert (got.members_joined, got.members_left) == (0, 1)  # PK11 left for Thailand
    assert got.dropout_rate == Decimal(1) / 15
    assert got.meetings_held == len(held) == 7
    assert got.attendances == sum(p.attended for p in paid)
    assert got.attendance_possible == sum(p.held for p in paid)
    assert got.attendance_rate == Decimal(got.attendances) / got.attendance_possible
    assert got.compulsory_savings == position.compulsory_savings
    assert got.voluntary_savings == position.voluntary_savings
    assert got.shares_value == position.shares_value
    assert got.share_money_held == position.share_money_held
    savings = (
        position.compulsory_savings
        + position.voluntary_savings
        + position.shares_value
        + position.share_money_held
    )
    assert got.savings == savings
    assert got.average_savings_per_member == Decimal(savings) / 14
    assert (got.cash_box, got.bank, got.social_fund) == (
        position.cash_box,
        position.bank,
        position.social_fund,
    )
    assert got.total_assets == sheet.total_assets
    assert got.total_assets == got.total_liabilities + got.total_equity
    assert got.loans_outstanding == portfolio.gross_outstanding == position.loans_outstanding
    assert got.loans_outstanding > 0 and got.loans_active == portfolio.loans_active == 1
    assert got.at_risk_30 == portfolio.at_risk_30 and got.par30 == portfolio.par30
    assert got.par30 == 1  # by the end of December her loan is months late
    assert got.borrowers == 1 and got.members_with_loans_rate == Decimal(1) / 14
    assert got.loan_fund_utilisation == Decimal(got.loans_outstanding) / sheet.total_assets
    assert got.net_income == income.surplus
    assert got.total_income == income.total_income
    assert got.interest_income == sum(
        r.amount for r in income.income if r.account in ("Income:Interest", "Income:Late penalties")
    )
    assert got.fines_income == sum(r.amount for r in income.income if "Fines" in r.account)
    days = (end - start).days + 1
    mean_assets = Decimal(assets_before + sheet.total_assets) / 2
    assert got.return_on_assets == Decimal(income.surplus) / mean_assets * 365 / days
    assert got.return_on_savings is not None and got.return_on_savings > 0


def test_the_project_is_the_sum_of_its_groups(demo_book):
    start, end = Q4
    with demo_book.read() as s:
        report = indicator_report(s, start=start, end=end)
    assert [r.group_code for r in report.rows] == ["SR-ACHM-01", "SR-BKNG-01", PUOK]
    (total,) = report.totals
    assert total.group_code == TOTAL_CODE and total.groups == 3 and total.currency == "KHR"
    for name in SUMMED:
        assert getattr(total, name) == sum(getattr(r, name) for r in report.rows), name
    rows = report.rows
    # Ratios are weighted by the groups' sizes, not averaged.
    assert total.par30 == Decimal(sum(r.at_risk_30 for r in rows)) / sum(
        r.loans_outstanding for r in rows
    )
    assert total.attendance_rate == Decimal(sum(r.attendances for r in rows)) / sum(
        r.attendance_possible for r in rows
    )
    assert total.attendance_rate != sum(r.attendance_rate for r in rows) / 3
    assert total.savings == sum(r.savings for r in rows)
    assert total.net_income == sum(r.net_income for r in rows)


def test_some_groups_only(demo_book):
    start, end = Q4
    with demo_book.read() as s:
        report = indicator_report(s, start=start, end=end, codes=[PUOK])
        alone = group_indicators(s, find_group(s, PUOK).id, start=start, end=end)
        with pytest.raises(UnknownGroup, match="no group 'SR-NOPE'"):
            indicator_report(s, start=start, end=end, codes=["SR-NOPE"])
        with pytest.raises(InvalidEntry, match=r"ends .* before it starts"):
            indicator_report(s, start=end, end=start)
    assert report.rows == (alone,)
    assert report.totals[0].par30 == alone.par30 and report.totals[0].savings == alone.savings


def test_write_offs_and_loans_made_in_the_quarter(book):
    v, loan = make_lent(book)  # 100,000 lent to M01 at the first meeting, on 2026-01-05
    meeting(book, v.group.id, CYCLE_START + WEEK, repay=[(loan.id, 25200)])
    written = book.write(
        lambda s: write_off_loan(s, loan.id, on=dt.date(2026, 2, 20), reason="Moved away")
    )
    q1_start, q1_end = quarter("2026Q1")
    with book.read() as s:
        q1 = group_indicators(s, v.group.id, start=q1_start, end=q1_end)
        q2_start, q2_end = quarter("2026Q2")
        q2 = group_indicators(s, v.group.id, start=q2_start, end=q2_end)
        income = income_and_expenditure(s, v.group.id, q1_start, q1_end)[0]
    assert (q1.loans_disbursed, q1.value_disbursed) == (1, 100_000)
    assert q1.average_loan_disbursed == 100_000
    assert (q1.loans_written_off, q1.value_written_off) == (1, written.written_off) == (1, 75_100)
    assert q1.loans_outstanding == 0 and q1.loans_active == 0 and q1.par30 is None
    assert q1.total_expenses == income.total_expenses >= 75_100
    assert q1.net_income == income.surplus < 0
    assert q1.return_on_assets is not None and q1.return_on_assets < 0
    assert (q2.loans_disbursed, q2.loans_written_off, q2.value_written_off) == (0, 0, 0)
