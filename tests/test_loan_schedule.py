"""Loan schedules against independently computed values, and their invariants."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.loan_schedule import METHODS, ScheduleError, build_schedule

LENT = dt.date(2026, 1, 5)


def monthly(n: int, start: dt.date = LENT) -> list[dt.date]:
    days = []
    for k in range(1, n + 1):
        month = start.month - 1 + k
        days.append(dt.date(start.year + month // 12, month % 12 + 1, start.day))
    return days


def weekly(n: int, start: dt.date = LENT) -> list[dt.date]:
    return [start + dt.timedelta(weeks=k) for k in range(1, n + 1)]


def half_up(x: Fraction) -> int:
    return int((x + Fraction(1, 2)) // 1)


def test_the_issue_example_against_an_independent_computation():
    """1,000,000 KHR at 1.5 %/month over 10 months, equal instalments rounded to 100 riel."""
    rows = build_schedule(
        1_000_000,
        method="declining_equal_instalments",
        rate_per_month=Decimal("0.015"),
        frequency="monthly",
        due_dates=monthly(10),
        disbursed_on=LENT,
        rounding_unit=100,
    )
    r = Fraction(15, 1000)
    exact = 1_000_000 * r / (1 - (1 + r) ** -10)  # 108,434.19...
    level = half_up(exact / 100) * 100
    assert level == 108_400
    balance = 1_000_000
    for row in rows:
        interest = half_up(balance * r)
        principal = balance if row.number == 10 else level - interest
        assert (row.interest, row.principal) == (interest, principal)
        balance -= principal
        assert row.balance_after == balance
    # By hand: 1,000,000 x 1.5 % = 15,000; 108,400 - 15,000 = 93,400; then 906,600 x 1.5 %.
    assert (rows[0].interest, rows[0].principal, rows[0].balance_after) == (15_000, 93_400, 906_600)
    assert (rows[1].interest, rows[1].principal) == (13_599, 94_801)
    assert sum(r.principal for r in rows) == 1_000_000
    assert all(r.total == 108_400 for r in rows[:-1])
    assert abs(rows[-1].total - 108_400) < 100 * 10  # the last absorbs the rounding


def test_equal_principal_declines():
    rows = build_schedule(
        1_200_000,
        method="declining_equal_principal",
        rate_per_month=Decimal("0.015"),
        frequency="monthly",
        due_dates=monthly(12),
        disbursed_on=LENT,
        rounding_unit=100,
    )
    assert [r.principal for r in rows] == [100_000] * 12
    assert [r.interest for r in rows[:3]] == [18_000, 16_500, 15_000]


def test_flat_interest_is_on_the_original_amount():
    rows = build_schedule(
        500_000,
        method="flat",
        rate_per_month=Decimal("0.02"),
        frequency="monthly",
        due_dates=monthly(6),
        disbursed_on=LENT,
        rounding_unit=100,
    )
    assert all(r.interest == 10_000 for r in rows)
    assert sum(r.interest for r in rows) == 60_000
    assert sum(r.principal for r in rows) == 500_000


def test_vsla_rate_per_30_days_on_the_balance_for_weekly_meetings():
    rows = build_schedule(
        300_000,
        method="vsla_30_days",
        rate_per_month=Decimal("0.05"),
        frequency="weekly",
        due_dates=weekly(12),
        disbursed_on=LENT,
        rounding_unit=100,
    )
    # 300,000 x 5 % x 7/30 = 3,500 the first week; principal 25,000 a week.
    assert (rows[0].interest, rows[0].principal) == (3_500, 25_000)
    assert rows[1].interest == half_up(Fraction(275_000) * Fraction(5, 100) * Fraction(7, 30))


def test_weekly_rate_spreads_the_monthly_rate_over_52_weeks():
    rows = build_schedule(
        520_000,
        method="declining_equal_principal",
        rate_per_month=Decimal("0.013"),
        frequency="weekly",
        due_dates=weekly(4),
        disbursed_on=LENT,
    )
    assert rows[0].interest == half_up(Fraction(520_000) * Fraction(13, 1000) * 12 / 52)


def test_grace_periods_are_interest_only():
    rows = build_schedule(
        400_000,
        method="declining_equal_instalments",
        rate_per_month=Decimal("0.015"),
        frequency="monthly",
        due_dates=monthly(6),
        disbursed_on=LENT,
        rounding_unit=100,
        grace_periods=2,
    )
    assert [r.principal for r in rows[:2]] == [0, 0]
    assert [r.interest for r in rows[:2]] == [6_000, 6_000]
    assert sum(r.principal for r in rows) == 400_000


def test_a_bullet_loan_repays_once_with_interest_for_the_term():
    rows = build_schedule(
        1_000_000,
        method="declining_equal_instalments",
        rate_per_month=Decimal("0.015"),
        frequency="bullet",
        due_dates=[dt.date(2026, 5, 5)],
        disbursed_on=LENT,
    )
    assert [(r.principal, r.interest) for r in rows] == [(1_000_000, 60_000)]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"principal": 0}, "more than zero"),
        ({"rate_per_month": Decimal("-0.01")}, "monthly rate"),
        ({"rate_per_month": 0.015}, "monthly rate"),
        ({"due_dates": []}, "at least one due date"),
        ({"due_dates": [dt.date(2026, 3, 5), dt.date(2026, 2, 5)]}, "in order"),
        ({"due_dates": [LENT]}, "after the money is lent"),
        ({"grace_periods": 3}, "at least one instalment"),
        ({"method": "compound"}, "Unknown interest method"),
    ],
)
def test_impossible_terms_are_refused(change, message):
    terms = {
        "principal": 100_000,
        "method": "flat",
        "rate_per_month": Decimal("0.01"),
        "frequency": "monthly",
        "due_dates": monthly(3),
        "disbursed_on": LENT,
    } | change
    principal = terms.pop("principal")
    with pytest.raises(ScheduleError, match=message):
        build_schedule(principal, **terms)


@given(
    principal=st.integers(1, 10**10),
    method=st.sampled_from(METHODS),
    rate=st.decimals(min_value=0, max_value=Decimal("0.1"), places=4),
    frequency=st.sampled_from(["weekly", "fortnightly", "monthly"]),
    periods=st.integers(1, 60),
    unit=st.sampled_from([1, 100, 1000]),
    grace=st.integers(0, 3),
)
def test_principal_always_sums_exactly_to_the_amount_lent(
    principal, method, rate, frequency, periods, unit, grace
):
    grace = min(grace, periods - 1)
    dates = {"weekly": weekly, "fortnightly": lambda n: weekly(2 * n)[1::2], "monthly": monthly}
    rows = build_schedule(
        principal,
        method=method,
        rate_per_month=rate,
        frequency=frequency,
        due_dates=dates[frequency](periods),
        disbursed_on=LENT,
        rounding_unit=unit,
        grace_periods=grace,
    )
    assert sum(r.principal for r in rows) == principal
    assert rows[-1].balance_after == 0
    assert all(r.principal >= 0 and r.interest >= 0 for r in rows)
    balances = [principal] + [r.balance_after for r in rows]
    assert all(b >= a for a, b in zip(balances[1:], balances, strict=False))
