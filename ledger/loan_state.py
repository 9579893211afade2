"""Where a loan stands on a date, worked out from its schedule and its payments alone.

Pure functions, no database: the same figures serve the loan card, the meeting sheet,
the repayment split and the portfolio report, and can be checked by property tests.

The rules, as field practice and the standard portfolio definitions have them:

- Payments fill the schedule oldest instalment first (interest and principal together);
  an instalment is *paid on time* if the payments made on or before its due date cover
  it and every instalment before it.
- An instalment not paid on time is *late* from the day after its due date, and costs
  the product's late penalty once.
- *Days overdue* count from the due date of the oldest instalment still unpaid.
- *Principal in arrears* is principal that fell due before the date and is not paid.
- Interest and penalties are income when paid, so what is owed but unpaid is reported,
  never booked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

PARTS = ("penalty", "interest", "principal")
DEFAULT_ORDER = "penalty,interest,principal"


@dataclass(frozen=True, slots=True)
class Instalment:
    number: int
    due_on: dt.date
    principal: int
    interest: int

    @property
    def total(self) -> int:
        return self.principal + self.interest


@dataclass(frozen=True, slots=True)
class Payment:
    paid_on: dt.date
    penalty: int
    interest: int
    principal: int


@dataclass(frozen=True, slots=True)
class InstalmentStatus:
    number: int
    due_on: dt.date
    principal: int
    interest: int
    paid: int  # of this instalment's total, oldest instalments paid first
    status: str  # "paid", "partly paid", "due", "overdue", "not yet due"
    late: bool  # not paid in full by its due date: the late penalty applies

    @property
    def total(self) -> int:
        return self.principal + self.interest


@dataclass(frozen=True, slots=True)
class Standing:
    """One schedule's figures on one date."""

    instalments: tuple[InstalmentStatus, ...]
    principal_paid: int
    interest_paid: int
    penalty_paid: int
    principal_outstanding: int
    interest_due: int  # fell due on or before the date, not yet paid
    penalty_charged: int
    penalty_due: int
    days_overdue: int
    principal_in_arrears: int
    due_to_date: int  # principal and interest due on or before the date
    paid_towards_due: int  # how much of that is paid

    @property
    def owed_now(self) -> int:
        """What settles the loan on the date: penalties, interest due and all principal."""
        return self.penalty_due + self.interest_due + self.principal_outstanding

    @property
    def due_now(self) -> int:
        """What is due on the date to be up to date: penalties and every instalment due
        by then, less what was paid (the amount the collection sheet asks for)."""
        return self.penalty_due + self.due_to_date - self.paid_towards_due


def standing(
    schedule: Sequence[Instalment],
    payments: Sequence[Payment],
    *,
    on: dt.date,
    penalty_per_late: int = 0,
) -> Standing:
    """The schedule's standing on ``on``, counting only payments made by then."""
    made = [p for p in payments if p.paid_on <= on]

    def paid_by(day: dt.date) -> int:
        return sum(p.interest + p.principal for p in made if p.paid_on <= day)

    pool = paid_by(on)
    cumulative = 0
    statuses: list[InstalmentStatus] = []
    oldest_unpaid: dt.date | None = None
    for i in schedule:
        before = cumulative
        cumulative += i.total
        share = max(0, min(pool - before, i.total))
        late = i.due_on < on and paid_by(i.due_on) < cumulative
        if share == i.total:
            status = "paid"
        elif i.due_on > on:
            status = "partly paid" if share else "not yet due"
        elif i.due_on == on:
            status = "due"
        else:
            status = "overdue"
            oldest_unpaid = oldest_unpaid or i.due_on
        statuses.append(
            InstalmentStatus(i.number, i.due_on, i.principal, i.interest, share, status, late)
        )
    principal_paid = sum(p.principal for p in made)
    interest_paid = sum(p.interest for p in made)
    penalty_paid = sum(p.penalty for p in made)
    penalty_charged = penalty_per_late * sum(1 for s in statuses if s.late)
    due = [i for i in schedule if i.due_on <= on]
    principal_fallen_due = sum(i.principal for i in schedule if i.due_on < on)
    due_to_date = sum(i.total for i in due)
    return Standing(
        instalments=tuple(statuses),
        principal_paid=principal_paid,
        interest_paid=interest_paid,
        penalty_paid=penalty_paid,
        principal_outstanding=sum(i.principal for i in schedule) - principal_paid,
        interest_due=max(sum(i.interest for i in due) - interest_paid, 0),
        penalty_charged=penalty_charged,
        penalty_due=max(penalty_charged - penalty_paid, 0),
        days_overdue=(on - oldest_unpaid).days if oldest_unpaid else 0,
        principal_in_arrears=max(principal_fallen_due - principal_paid, 0),
        due_to_date=due_to_date,
        paid_towards_due=min(pool, due_to_date),
    )


def check_order(order: str) -> str:
    """A repayment order names penalty, interest and principal once each."""
    parts = tuple(p.strip() for p in order.split(","))
    if sorted(parts) != sorted(PARTS):
        raise ValueError(
            "The repayment order must name penalty, interest and principal once each, "
            f"e.g. {DEFAULT_ORDER!r}; got {order!r}."
        )
    return ",".join(parts)


def allocate(owed: Standing, amount: int, order: str = DEFAULT_ORDER) -> dict[str, int]:
    """Split a payment in the product's order; a partial payment always splits the same.

    The caller refuses an amount beyond ``owed.owed_now`` first.
    """
    available = {
        "penalty": owed.penalty_due,
        "interest": owed.interest_due,
        "principal": owed.principal_outstanding,
    }
    split = dict.fromkeys(PARTS, 0)
    left = amount
    for part in check_order(order).split(","):
        split[part] = min(left, available[part])
        left -= split[part]
    if left:
        raise ValueError(f"{amount} is more than the {owed.owed_now} owed.")
    return split
