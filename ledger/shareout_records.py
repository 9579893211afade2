"""Share-outs as they were posted: the table the share-out sheet prints.

Read back from the append-only share-out tables, so a sheet printed years later shows
exactly what members were paid, whatever happened in the books since.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.groups import get_group
from ledger.models import Cycle, Member, Shareout, ShareoutPayout
from ledger.permissions import allow


@dataclass(frozen=True, slots=True)
class PostedPayout:
    code: str
    name_latin: str
    name_khmer: str | None
    shares: int | None
    held: int
    earned: int
    deducted: int
    payout: int


@dataclass(frozen=True, slots=True)
class ShareoutRecord:
    """A share-out as it was posted: the table the share-out sheet prints."""

    group_code: str
    currency: str
    cycle_number: int
    shared_on: dt.date
    method: str
    deduct_loans: bool
    cash_unit: int
    pool: int
    distributed: int
    deducted: int
    leftover: int
    value_per_share: str | None
    posted_by: str
    lines: tuple[PostedPayout, ...]


def posted_shareouts(session: Session, group_id: int) -> list[ShareoutRecord]:
    """Every share-out of the group, oldest cycle first."""
    allow(session, "read", group_id)
    group = get_group(session, group_id)
    out = []
    rows = session.execute(
        select(Shareout, Cycle.number)
        .join(Cycle, Cycle.id == Shareout.cycle_id)
        .where(Shareout.group_id == group_id)
        .order_by(Cycle.number)
    ).all()
    for so, number in rows:
        payouts = session.execute(
            select(ShareoutPayout, Member)
            .join(Member, Member.id == ShareoutPayout.member_id)
            .where(ShareoutPayout.shareout_id == so.id)
            .order_by(Member.code)
        ).all()
        out.append(
            ShareoutRecord(
                group.code,
                group.currency,
                number,
                so.shared_on,
                so.method,
                so.deduct_loans,
                so.cash_unit,
                so.pool,
                so.distributed,
                so.deducted,
                so.leftover,
                so.value_per_share,
                so.posted_by,
                tuple(
                    PostedPayout(
                        m.code,
                        m.name_latin,
                        m.name_khmer,
                        p.shares,
                        p.held,
                        p.earned,
                        p.deducted,
                        p.payout,
                    )
                    for p, m in payouts
                ),
            )
        )
    return out
