"""Where a rice loan stands on a date, from what was lent and what was repaid by then.

Pure functions, no database, in grams. A rice loan is one bullet: the quantity lent plus
its interest falls due on one day after the harvest. Repayments pay interest first, then
principal; a loan still owing after its due date is overdue, and ages from that date in
the same buckets as money loans.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

PPM = 1_000_000


def rice_interest(quantity: int, interest_ppm: int) -> int:
    """Interest in grams for the whole loan, rounded down to the gram (in the member's
    favour: she never owes a gram more than the rate says)."""
    return quantity * interest_ppm // PPM


@dataclass(frozen=True, slots=True)
class RicePayment:
    repaid_on: dt.date
    interest: int
    principal: int
    cash_amount: int | None  # money received instead of rice, if repaid in cash


@dataclass(frozen=True, slots=True)
class RiceStanding:
    quantity: int
    interest: int
    due_on: dt.date
    on: dt.date
    interest_paid: int
    principal_paid: int

    @property
    def interest_owed(self) -> int:
        return self.interest - self.interest_paid

    @property
    def principal_owed(self) -> int:
        return self.quantity - self.principal_paid

    @property
    def owed(self) -> int:
        return self.interest_owed + self.principal_owed

    @property
    def state(self) -> str:
        if self.owed == 0:
            return "repaid"
        return "overdue" if self.on > self.due_on else "active"

    @property
    def days_overdue(self) -> int:
        return (self.on - self.due_on).days if self.state == "overdue" else 0


def rice_standing(
    quantity: int,
    interest: int,
    due_on: dt.date,
    payments: Sequence[RicePayment],
    *,
    on: dt.date,
) -> RiceStanding:
    made = [p for p in payments if p.repaid_on <= on]
    return RiceStanding(
        quantity,
        interest,
        due_on,
        on,
        sum(p.interest for p in made),
        sum(p.principal for p in made),
    )


def split_rice_repayment(owed: RiceStanding, quantity: int) -> tuple[int, int]:
    """(interest, principal) of a repayment: interest first. The caller refuses more
    than is owed before calling."""
    interest = min(quantity, owed.interest_owed)
    return interest, quantity - interest
