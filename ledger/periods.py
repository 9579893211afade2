"""Closing periods: once closed, nothing can be posted dated on or before the close.

A chair closes a month, or the share-out closes a cycle. The close records the journal's
head (sequence and hash) at that moment, so the head can be written in the meeting
minutes and a rewritten chain is caught later by verify, and it keeps every account's
balance on the last day of the period, so the period's figures can be printed later
exactly as they were closed. There is no reopening: a mistake found later is corrected
by a reversal dated in the open period.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from ledger.errors import ClosedPeriod
from ledger.models import (
    Group,
    JournalEntry,
    PeriodClose,
    PeriodCloseBalance,
    Posting,
)
from ledger.permissions import allow
from ledger.queries import POSTING_ENTRY, chain_head, open_meeting_of


@dataclass(frozen=True, slots=True)
class ClosedPeriodRecord:
    group_id: int
    closed_through: dt.date
    head_seq: int
    head_hash: str
    closed_by: str = ""
    closed_at: dt.datetime | None = None
    accounts: int = 0  # balances kept with the close


def month_end(month: str) -> dt.date:
    """The last day of a month written YYYY-MM."""
    try:
        year, number = (int(part) for part in month.split("-"))
        return dt.date(year, number, calendar.monthrange(year, number)[1])
    except ValueError:
        raise ClosedPeriod(f"{month!r} is not a month written as YYYY-MM.") from None


def close_period(
    session: Session,
    group_id: int,
    through: dt.date,
    *,
    today: dt.date | None = None,
) -> ClosedPeriodRecord:
    """Close the group's books through ``through`` and keep its balances on that day."""
    closed_by = allow(
        session, "decide", group_id, audit=f"closed the books through {through}"
    ).username
    # Lock the group as the write path does, so no entry lands between reading the
    # head and recording it.
    session.execute(select(Group.id).where(Group.id == group_id).with_for_update())
    current = closed_through(session, group_id)
    if current is not None and through <= current:
        raise ClosedPeriod(f"The books are already closed up to {current.isoformat()}.")
    if through > (today or dt.date.today()):
        raise ClosedPeriod(
            f"A period can only be closed once it is over; {through.isoformat()} is in the future."
        )
    still_open = open_meeting_of(session, group_id)
    if still_open is not None and still_open[1] <= through:
        number, day = still_open
        raise ClosedPeriod(
            f"Meeting #{number} of {day.isoformat()} is still open; close it before closing "
            "the period."
        )
    head_seq, head_hash = chain_head(session, group_id)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    close_id = session.execute(
        insert(PeriodClose)
        .values(
            group_id=group_id,
            closed_through=through,
            closed_at=now,
            closed_by=closed_by,
            head_seq=head_seq,
            head_hash=head_hash,
        )
        .returning(PeriodClose.id)
    ).scalar_one()
    balances = session.execute(
        select(Posting.account_id, Posting.commodity, func.sum(Posting.amount))
        .join(JournalEntry, POSTING_ENTRY)
        .where(Posting.group_id == group_id, JournalEntry.entry_date <= through)
        .group_by(Posting.account_id, Posting.commodity)
    ).all()
    rows = [
        {"close_id": close_id, "account_id": a, "commodity": c, "balance": int(b)}
        for a, c, b in balances
        if b
    ]
    if rows:
        session.execute(insert(PeriodCloseBalance), rows)
    return ClosedPeriodRecord(group_id, through, head_seq, head_hash, closed_by, now, len(rows))


def closed_through(session: Session, group_id: int) -> dt.date | None:
    return session.execute(
        select(func.max(PeriodClose.closed_through)).where(PeriodClose.group_id == group_id)
    ).scalar()


def period_closes(session: Session, group_id: int) -> list[ClosedPeriodRecord]:
    """Every close of the group, oldest first, with how many balances each kept."""
    allow(session, "read", group_id)
    kept = (
        select(PeriodCloseBalance.close_id, func.count().label("n"))
        .group_by(PeriodCloseBalance.close_id)
        .subquery()
    )
    rows = session.execute(
        select(PeriodClose, func.coalesce(kept.c.n, 0))
        .outerjoin(kept, kept.c.close_id == PeriodClose.id)
        .where(PeriodClose.group_id == group_id)
        .order_by(PeriodClose.closed_through)
    ).all()
    return [
        ClosedPeriodRecord(
            c.group_id, c.closed_through, c.head_seq, c.head_hash, c.closed_by, c.closed_at, n
        )
        for c, n in rows
    ]


def balances_at_close(session: Session, group_id: int, through: dt.date) -> dict[int, int]:
    """The balances kept when the books were closed through ``through`` (account → minor)."""
    allow(session, "read", group_id)
    close_id = session.execute(
        select(PeriodClose.id).where(
            PeriodClose.group_id == group_id, PeriodClose.closed_through == through
        )
    ).scalar()
    if close_id is None:
        raise ClosedPeriod(f"The books were not closed through {through.isoformat()}.")
    return dict(
        session.execute(
            select(PeriodCloseBalance.account_id, PeriodCloseBalance.balance).where(
                PeriodCloseBalance.close_id == close_id
            )
        ).all()
    )
