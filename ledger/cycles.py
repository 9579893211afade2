"""Savings cycles: the period (typically 12 months) and the rules a group voted for it.

A VSLA's share price is fixed for the whole cycle, so a member's number of shares is
their share account divided by the price. Issue #5 closes cycles with the share-out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from moneyed import Money
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.errors import InvalidEntry, MeetingError
from ledger.models import Cycle, Group
from ledger.money import to_minor
from ledger.periods import closed_through
from ledger.permissions import allow


@dataclass(frozen=True, slots=True)
class CycleRecord:
    id: int
    group_id: int
    number: int
    starts_on: dt.date
    ends_on: dt.date | None
    status: str
    share_price: int | None
    max_shares_per_meeting: int
    compulsory_savings: int
    social_fund_contribution: int
    fine_late: int
    fine_absent: int


def _record(c: Cycle) -> CycleRecord:
    return CycleRecord(
        c.id,
        c.group_id,
        c.number,
        c.starts_on,
        c.ends_on,
        c.status,
        c.share_price,
        c.max_shares_per_meeting,
        c.compulsory_savings,
        c.social_fund_contribution,
        c.fine_late,
        c.fine_absent,
    )


def open_cycle(
    session: Session,
    group_id: int,
    starts_on: dt.date,
    *,
    ends_on: dt.date | None = None,
    share_price: Money | None = None,
    max_shares_per_meeting: int = 5,
    compulsory_savings: Money | None = None,
    social_fund_contribution: Money | None = None,
    fine_late: Money | None = None,
    fine_absent: Money | None = None,
) -> CycleRecord:
    """Start a cycle. Only one cycle of a group is open at a time."""
    allow(session, "decide", group_id)
    currency = session.execute(select(Group.currency).where(Group.id == group_id)).scalar_one()
    if current_cycle(session, group_id, required=False) is not None:
        raise MeetingError("This group already has an open cycle; close it (share-out) first.")
    closed = closed_through(session, group_id)
    if closed is not None and starts_on <= closed:
        raise MeetingError(
            f"The books are closed up to {closed.isoformat()}; the new cycle starts after that."
        )
    if ends_on is not None and ends_on <= starts_on:
        raise InvalidEntry("A cycle must end after it starts.")
    if not 1 <= max_shares_per_meeting <= 100:
        raise InvalidEntry("Members may buy 1 to 100 shares per meeting at most.")

    def minor(value: Money | None, label: str) -> int:
        if value is None:
            return 0
        amount = to_minor(value, expected=currency)
        if amount < 0:
            raise InvalidEntry(f"The {label} cannot be negative.")
        return amount

    price = minor(share_price, "share price") or None
    number = (
        session.execute(select(func.max(Cycle.number)).where(Cycle.group_id == group_id)).scalar()
        or 0
    ) + 1
    cycle = Cycle(
        group_id=group_id,
        number=number,
        starts_on=starts_on,
        ends_on=ends_on,
        status="open",
        share_price=price,
        max_shares_per_meeting=max_shares_per_meeting,
        compulsory_savings=minor(compulsory_savings, "compulsory savings"),
        social_fund_contribution=minor(social_fund_contribution, "social fund contribution"),
        fine_late=minor(fine_late, "late fine"),
        fine_absent=minor(fine_absent, "absence fine"),
    )
    session.add(cycle)
    session.flush()
    allow(session, "decide", group_id, audit=f"opened cycle {number} on {starts_on.isoformat()}")
    return _record(cycle)


def current_cycle(session: Session, group_id: int, *, required: bool = True) -> CycleRecord | None:
    allow(session, "read", group_id)
    cycle = session.execute(
        select(Cycle).where(Cycle.group_id == group_id, Cycle.status == "open")
    ).scalar_one_or_none()
    if cycle is None and required:
        raise MeetingError("This group has no open savings cycle; open one first.")
    return _record(cycle) if cycle else None
