"""The share-out sheet, as data: one row per member, read out and signed at the meeting.

A group reads the share-out aloud before it is posted, so members can check their
shares and their payout, and signs (or thumbprints) for the cash when it is paid. The
sheet prints either the preview (``plan_shareout``, nothing written) or a share-out as
it was posted (``posted_shareouts``, read back from the append-only share-out tables, so
a sheet reprinted years later shows exactly what was paid). Both become the same
record, so the printed page cannot tell them apart except by its "preview" mark.

Each row: whole shares (VSLA method), what the member gets back at face value (savings,
share money and shares), her part of the profit, what was deducted for her loans, and
the cash in her hand. held + profit = deducted + payout, on every row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from sqlalchemy.orm import Session

from ledger.groups import GroupRecord, get_group
from ledger.permissions import allow
from ledger.queries import chain_head
from ledger.shareout import ShareoutError, ShareoutPlan, plan_shareout
from ledger.shareout_records import ShareoutRecord, posted_shareouts


@dataclass(frozen=True, slots=True)
class ShareoutRow:
    code: str
    name_latin: str
    name_khmer: str | None
    shares: int | None  # whole shares (method "shares"), else None
    returned: int  # savings, share money and shares at face value
    profit: int  # her part of the profit, after rounding (negative after a loss)
    deducted: int  # her loans settled from the payout
    payout: int  # cash in her hand


@dataclass(frozen=True, slots=True)
class ShareoutSheet:
    group: GroupRecord
    posted: bool  # False: a preview, read out before posting
    cycle_number: int
    shared_on: dt.date
    method: str  # "shares" or "savings_time"
    deduct_loans: bool
    cash_unit: int
    pool: int
    distributed: int
    deducted: int
    leftover: int  # stays with the group as capital for the next cycle
    value_per_share: Decimal | None  # in minor units, two decimals, rounded down
    social_fund: int | None  # kept out of the pool (known for a preview)
    posted_by: str | None
    rows: tuple[ShareoutRow, ...]
    head_seq: int  # the group's chain head when the sheet was made
    head_hash: str

    @property
    def currency(self) -> str:
        return self.group.currency

    @property
    def total_shares(self) -> int | None:
        if self.method != "shares":
            return None
        return sum(row.shares or 0 for row in self.rows)

    @property
    def returned(self) -> int:
        return sum(row.returned for row in self.rows)

    @property
    def profit(self) -> int:
        return sum(row.profit for row in self.rows)


def shareout_sheet(
    session: Session,
    group_id: int,
    *,
    on: dt.date,
    posted: bool,
    method: str = "shares",
    deduct_loans: bool = False,
    cash_unit: int | None = None,
    today: dt.date | None = None,
) -> ShareoutSheet:
    """The share-out of ``on``: as posted that day (``posted``), or previewed as it
    would be posted that day with the given choices (which a posted one already made)."""
    allow(session, "read", group_id)
    group = get_group(session, group_id)
    head = chain_head(session, group_id)
    if posted:
        records = posted_shareouts(session, group_id)
        record = next((r for r in records if r.shared_on == on), None)
        if record is None:
            days = ", ".join(r.shared_on.isoformat() for r in records) or "none yet"
            raise ShareoutError(
                f"Group {group.code} has no share-out posted on {on.isoformat()} "
                f"(posted share-outs: {days})."
            )
        return _from_record(group, record, head)
    plan = plan_shareout(
        session,
        group_id,
        on=on,
        method=method,
        deduct_loans=deduct_loans,
        cash_unit=cash_unit,
        today=today,
    )
    return _from_plan(group, plan, head)


def _from_plan(group: GroupRecord, plan: ShareoutPlan, head: tuple[int, str]) -> ShareoutSheet:
    value = plan.value_per_share
    return ShareoutSheet(
        group=group,
        posted=False,
        cycle_number=plan.cycle_number,
        shared_on=plan.on,
        method=plan.method,
        deduct_loans=plan.deduct_loans,
        cash_unit=plan.cash_unit,
        pool=plan.pool,
        distributed=plan.distributed,
        deducted=plan.deducted,
        leftover=plan.leftover,
        value_per_share=None
        if value is None
        else _two_decimals(Decimal(value.numerator) / Decimal(value.denominator)),
        social_fund=plan.social_fund,
        posted_by=None,
        rows=tuple(
            ShareoutRow(
                line.code,
                line.name_latin,
                line.name_khmer,
                line.shares,
                line.held,
                line.earned,
                line.deducted,
                line.payout,
            )
            for line in plan.lines
        ),
        head_seq=head[0],
        head_hash=head[1],
    )


def _from_record(
    group: GroupRecord, record: ShareoutRecord, head: tuple[int, str]
) -> ShareoutSheet:
    value = record.value_per_share
    return ShareoutSheet(
        group=group,
        posted=True,
        cycle_number=record.cycle_number,
        shared_on=record.shared_on,
        method=record.method,
        deduct_loans=record.deduct_loans,
        cash_unit=record.cash_unit,
        pool=record.pool,
        distributed=record.distributed,
        deducted=record.deducted,
        leftover=record.leftover,
        value_per_share=None if value is None else _two_decimals(Decimal(value)),
        social_fund=None,
        posted_by=record.posted_by,
        rows=tuple(
            ShareoutRow(
                p.code,
                p.name_latin,
                p.name_khmer,
                p.shares if record.method == "shares" else None,
                p.held,
                p.earned,
                p.deducted,
                p.payout,
            )
            for p in record.lines
        ),
        head_seq=head[0],
        head_hash=head[1],
    )


def _two_decimals(value: Decimal) -> Decimal:
    """A share's value for display: two decimals of the minor unit, rounded down, as
    ``ledger.shareout.value_text`` stores it."""
    return value.quantize(Decimal("0.01"), rounding=ROUND_DOWN)
