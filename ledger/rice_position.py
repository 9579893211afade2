"""The rice bank at a glance: stock, what members owe, losses and each loan, on a day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.groups import get_group
from ledger.models import Account, JournalEntry, Posting
from ledger.permissions import allow
from ledger.queries import POSTING_ENTRY
from ledger.rice import LOSS_REASONS, RICE
from ledger.rice_loans import RiceLoanStatement, rice_loans


@dataclass(frozen=True, slots=True)
class RicePosition:
    """The rice bank on a day: stock, what members owe, losses, and each loan."""

    group_code: str
    on: dt.date
    stock: int
    capital: int
    interest_earned: int
    losses: dict[str, int]
    traded: int  # net kg bought (positive) or sold (negative) for money
    trading_money: int  # net money paid (positive) or received (negative) for rice
    loans: tuple[RiceLoanStatement, ...]

    @property
    def principal_outstanding(self) -> int:
        return sum(s.standing.principal_owed for s in self.loans)

    @property
    def interest_owed(self) -> int:
        return sum(s.standing.interest_owed for s in self.loans)

    @property
    def overdue(self) -> tuple[RiceLoanStatement, ...]:
        return tuple(s for s in self.loans if s.standing.state == "overdue")


def rice_position(session: Session, group_id: int, *, on: dt.date) -> RicePosition:
    """Balances are as of ``on`` (summed from postings dated by then), so a position for
    an earlier day is right even after later movements."""
    allow(session, "read", group_id)
    group = get_group(session, group_id)
    rows = session.execute(
        select(Account.role, func.coalesce(func.sum(Posting.amount), 0))
        .join(Posting, Posting.account_id == Account.id)
        .join(JournalEntry, POSTING_ENTRY)
        .where(
            Account.group_id == group_id,
            Account.commodity.in_([RICE, group.currency]),
            Account.role.like("rice%"),
            Account.member_id.is_(None),
            JournalEntry.entry_date <= on,
        )
        .group_by(Account.role)
    ).all()
    by_role = {role: int(total) for role, total in rows}
    return RicePosition(
        group_code=group.code,
        on=on,
        stock=by_role.get("rice_stock", 0),
        capital=-by_role.get("rice_capital", 0),
        interest_earned=-by_role.get("rice_interest", 0),
        losses={r: by_role.get(f"rice_losses_{r}", 0) for r in LOSS_REASONS},
        traded=-by_role.get("rice_trading", 0),
        trading_money=by_role.get("rice_trading_money", 0),
        loans=tuple(rice_loans(session, group_id, on=on)),
    )
