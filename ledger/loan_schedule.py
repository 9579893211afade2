"""Loan repayment schedules, computed exactly.

Four interest methods are supported:

- declining balance with equal instalments: ``A = P·r / (1 − (1+r)^−n)``, the default;
- declining balance with equal principal;
- flat interest on the original amount. The NBC forbids this for regulated lenders, so
  a product that uses it must show a warning;
- the VSLA "rate per 30 days" on the outstanding balance, pro rata to the days between
  due dates.

Amounts are integer minor units, and every step uses Decimal with explicit rounding,
never floats. Interest is rounded half-up to the whole minor unit. Instalments are
rounded half-up to the product's rounding unit (for example 100 riel). The last
instalment takes whatever is left, so the principal always sums exactly to the amount
lent. During the grace periods at the start, only interest is due.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from ledger.errors import LedgerError

Method = Literal["declining_equal_instalments", "declining_equal_principal", "flat", "vsla_30_days"]
METHODS: tuple[Method, ...] = (
    "declining_equal_instalments",
    "declining_equal_principal",
    "flat",
    "vsla_30_days",
)
Frequency = Literal["weekly", "fortnightly", "monthly", "bullet"]
# A monthly rate applied to shorter periods: twelve months spread over 52 weeks / 26 fortnights.
PERIODS_PER_YEAR = {"weekly": 52, "fortnightly": 26, "monthly": 12}


class ScheduleError(LedgerError):
    """Loan terms from which no schedule can be made."""


@dataclass(frozen=True, slots=True)
class Instalment:
    number: int
    due: dt.date
    principal: int
    interest: int
    balance_after: int

    @property
    def total(self) -> int:
        return self.principal + self.interest


def period_rate(rate_per_month: Decimal, frequency: Frequency) -> Decimal:
    """The rate for one repayment period, from the product's monthly rate."""
    if frequency in ("monthly", "bullet"):
        return rate_per_month
    return rate_per_month * 12 / PERIODS_PER_YEAR[frequency]


def build_schedule(
    principal: int,
    *,
    method: Method,
    rate_per_month: Decimal,
    frequency: Frequency,
    due_dates: Sequence[dt.date],
    disbursed_on: dt.date,
    rounding_unit: int = 1,
    grace_periods: int = 0,
) -> list[Instalment]:
    """The instalments of a loan, one per due date (which the caller puts on meeting days).

    A bullet loan has a single due date: all principal, with interest for the whole term.
    """
    _check(principal, method, rate_per_month, due_dates, disbursed_on, rounding_unit, grace_periods)
    with decimal.localcontext() as ctx:
        ctx.prec = 60
        ctx.rounding = decimal.ROUND_HALF_UP
        if frequency == "bullet":
            return _bullet(principal, method, rate_per_month, due_dates[0], disbursed_on)
        rate = period_rate(rate_per_month, frequency)
        amortised = len(due_dates) - grace_periods
        balance = principal
        rows: list[Instalment] = []
        previous = disbursed_on
        level = _level_instalment(principal, rate, amortised, rounding_unit)
        for number, due in enumerate(due_dates, start=1):
            last = number == len(due_dates)
            in_grace = number <= grace_periods
            interest = _interest(method, principal, balance, rate, rate_per_month, previous, due)
            if in_grace:
                paid = 0
            elif last:
                paid = balance
            elif method == "declining_equal_instalments":
                paid = min(max(level - interest, 0), balance)
            else:  # equal principal: declining-equal-principal, flat, VSLA
                paid = min(_round_to(Decimal(principal) / amortised, rounding_unit), balance)
            balance -= paid
            rows.append(Instalment(number, due, paid, interest, balance))
            previous = due
        return rows


def _interest(
    method: Method,
    principal: int,
    balance: int,
    rate: Decimal,
    rate_per_month: Decimal,
    previous: dt.date,
    due: dt.date,
) -> int:
    if method == "flat":
        return _whole(Decimal(principal) * rate)
    if method == "vsla_30_days":
        return _whole(Decimal(balance) * rate_per_month * (due - previous).days / 30)
    return _whole(Decimal(balance) * rate)


def _level_instalment(principal: int, rate: Decimal, periods: int, unit: int) -> int:
    """``A = P·r / (1 − (1+r)^−n)``, rounded to the product's unit (``P / n`` at 0 %)."""
    if rate == 0:
        return _round_to(Decimal(principal) / periods, unit)
    exact = Decimal(principal) * rate / (1 - (1 + rate) ** -periods)
    return _round_to(exact, unit)


def _bullet(
    principal: int, method: Method, rate_per_month: Decimal, due: dt.date, disbursed_on: dt.date
) -> list[Instalment]:
    days = (due - disbursed_on).days
    if method == "vsla_30_days":
        interest = _whole(Decimal(principal) * rate_per_month * days / 30)
    else:
        months = _whole_months(disbursed_on, due)
        interest = _whole(Decimal(principal) * rate_per_month * months)
    return [Instalment(1, due, principal, interest, 0)]


def _whole_months(start: dt.date, end: dt.date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return max(months if end.day >= start.day else months - 1, 1)


def _whole(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=decimal.ROUND_HALF_UP))


def _round_to(value: Decimal, unit: int) -> int:
    return _whole(value / unit) * unit


def _check(
    principal: int,
    method: str,
    rate_per_month: Decimal,
    due_dates: Sequence[dt.date],
    disbursed_on: dt.date,
    rounding_unit: int,
    grace_periods: int,
) -> None:
    if not isinstance(principal, int) or principal <= 0:
        raise ScheduleError("The amount lent must be more than zero.")
    if method not in METHODS:
        raise ScheduleError(f"Unknown interest method {method!r}; use one of {', '.join(METHODS)}.")
    if not isinstance(rate_per_month, Decimal) or rate_per_month < 0 or rate_per_month >= 1:
        raise ScheduleError(
            "The monthly rate is a Decimal fraction from 0 up to 1 (0.015 is 1.5 %)."
        )
    if not due_dates:
        raise ScheduleError("A loan needs at least one due date.")
    if any(b <= a for a, b in itertools.pairwise(due_dates)):
        raise ScheduleError("Due dates must be in order, one per repayment period.")
    if due_dates[0] <= disbursed_on:
        raise ScheduleError("The first due date must come after the money is lent.")
    if rounding_unit < 1:
        raise ScheduleError("The rounding unit is at least one minor unit.")
    if not 0 <= grace_periods < len(due_dates):
        raise ScheduleError("Grace periods must leave at least one instalment that repays.")
