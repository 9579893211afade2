"""Closing periods: once closed, nothing can be posted dated on or before the close.

The close records the journal's head (sequence and hash) at that moment, so the head can
be written in the meeting minutes and a rewritten chain is caught later by verify.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from ledger.errors import ClosedPeriod
from ledger.models import Group, PeriodClose
from ledger.queries import chain_head


@dataclass(frozen=True, slots=True)
class ClosedPeriodRecord:
    group_id: int
    closed_through: dt.date
    head_seq: int
    head_hash: str


def close_period(
    session: Session, group_id: int, through: dt.date, closed_by: str
) -> ClosedPeriodRecord:
    # Lock the group as the write path does, so no entry lands between reading the
    # head and recording it.
    session.execute(select(Group.id).where(Group.id == group_id).with_for_update())
    current = session.execute(
        select(func.max(PeriodClose.closed_through)).where(PeriodClose.group_id == group_id)
    ).scalar()
    if current is not None and through <= current:
        raise ClosedPeriod(f"The books are already closed up to {current.isoformat()}.")
    head_seq, head_hash = chain_head(session, group_id)
    session.execute(
        insert(PeriodClose).values(
            group_id=group_id,
            closed_through=through,
            closed_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
            closed_by=closed_by,
            head_seq=head_seq,
            head_hash=head_hash,
        )
    )
    return ClosedPeriodRecord(group_id, through, head_seq, head_hash)
