"""A one-screen overview of a book: its groups, their size and their latest entry."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.models import Account, Group, JournalEntry
from ledger.permissions import only_readable


@dataclass(frozen=True, slots=True)
class GroupSummary:
    code: str
    name: str
    entries: int
    accounts: int
    last_entry_date: dt.date | None


@dataclass(frozen=True, slots=True)
class BookSummary:
    groups: tuple[GroupSummary, ...]


def book_summary(session: Session) -> BookSummary:
    """Per group: the head of the chain (its entry count) and the latest entry's date.

    Uses the journal's (group, seq) key for the head and a count of accounts, so it is as
    quick on a book of a million entries as on an empty one.
    """
    head = (
        select(JournalEntry.group_id, func.max(JournalEntry.seq).label("entries"))
        .group_by(JournalEntry.group_id)
        .subquery()
    )
    accounts = (
        select(Account.group_id, func.count().label("accounts"))
        .group_by(Account.group_id)
        .subquery()
    )
    last_date = (
        select(JournalEntry.entry_date)
        .where(JournalEntry.group_id == Group.id, JournalEntry.seq == head.c.entries)
        .scalar_subquery()
    )
    query = (
        select(
            Group.code,
            Group.name,
            func.coalesce(head.c.entries, 0),
            func.coalesce(accounts.c.accounts, 0),
            last_date,
        )
        .outerjoin(head, head.c.group_id == Group.id)
        .outerjoin(accounts, accounts.c.group_id == Group.id)
        .order_by(Group.code)
    )
    query = only_readable(session, query, Group.id)
    rows = session.execute(query).all()
    return BookSummary(tuple(GroupSummary(*row) for row in rows))
