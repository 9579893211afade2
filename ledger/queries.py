"""Read-only questions about the book, answered as plain frozen records.

Balances come from the cached per-account balance the database maintains on every
posting, so a trial balance reads one row per account and never scans the journal.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple

from moneyed import Money
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.models import GENESIS_HASH, Account, Group, JournalEntry, Meeting, Posting
from ledger.money import from_minor
from ledger.permissions import allow, only_readable

# How a posting finds its entry: the journal's key is (group, seq).
POSTING_ENTRY = (JournalEntry.group_id == Posting.group_id) & (
    JournalEntry.seq == Posting.entry_seq
)


class BalanceRow(NamedTuple):
    """One account's line of the trial balance.

    A named tuple, not a dataclass: a federation's book has tens of thousands of
    accounts, and a tuple is built straight from the database row at a fraction of a
    frozen dataclass's cost (the trial balance target is 100 ms at a million entries).
    """

    group_code: str
    account_id: int
    account: str
    type: str
    commodity: str
    balance_minor: int

    @property
    def balance(self) -> Money:
        return from_minor(self.balance_minor, self.commodity)


@dataclass(frozen=True, slots=True)
class TrialBalance:
    rows: tuple[BalanceRow, ...]
    totals_minor: dict[str, int]  # per commodity; zero in a sound book

    @property
    def balanced(self) -> bool:
        return all(total == 0 for total in self.totals_minor.values())


def trial_balance(session: Session, group_id: int | None = None) -> TrialBalance:
    query = (
        select(
            Group.code,
            Account.id,
            Account.name,
            Account.type,
            Account.commodity,
            Account.balance,
        )
        .join(Group, Group.id == Account.group_id)
        .order_by(Group.code, Account.name, Account.commodity)
    )
    if group_id is not None:
        allow(session, "read", group_id)
        query = query.where(Account.group_id == group_id)
    else:
        query = only_readable(session, query, Account.group_id)
    # Core rows on the session's connection: the ORM's per-row loading adds nothing to
    # plain columns but time.
    rows = tuple(map(BalanceRow._make, session.connection().execute(query).all()))
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        totals[row.commodity] += row.balance_minor
    return TrialBalance(rows, dict(sorted(totals.items())))


@dataclass(frozen=True, slots=True)
class HistoryRow:
    seq: int
    entry_date: dt.date
    memo: str
    amount_minor: int
    running_minor: int


def account_history(
    session: Session, account_id: int, *, limit: int | None = None
) -> list[HistoryRow]:
    """Every movement of one account, oldest first, with the running balance.

    Served by the (account_id, entry_seq) index: cost grows with this account's postings,
    not with the size of the book. ``limit`` keeps the most recent rows only.
    """
    group_id = session.execute(select(Account.group_id).where(Account.id == account_id)).scalar()
    allow(session, "read", group_id)
    query = (
        select(JournalEntry.seq, JournalEntry.entry_date, JournalEntry.memo, Posting.amount)
        .join(JournalEntry, POSTING_ENTRY)
        .where(Posting.account_id == account_id)
        .order_by(Posting.entry_seq, Posting.line_no)
    )
    running = 0
    rows: list[HistoryRow] = []
    for seq, date, memo, amount in session.execute(query):
        running += amount
        rows.append(HistoryRow(seq, date, memo, amount, running))
    return rows[-limit:] if limit else rows


def open_meeting_of(session: Session, group_id: int) -> tuple[int, dt.date] | None:
    """(number, date) of the group's meeting still open, if any: at most one is."""
    row = session.execute(
        select(Meeting.number, Meeting.meeting_date).where(
            Meeting.group_id == group_id, Meeting.status == "open"
        )
    ).first()
    return (row.number, row.meeting_date) if row else None


def chain_head(session: Session, group_id: int) -> tuple[int, str]:
    """The group's last entry number and hash (0 and the genesis hash when empty)."""
    row = session.execute(
        select(JournalEntry.seq, JournalEntry.hash)
        .where(JournalEntry.group_id == group_id)
        .order_by(JournalEntry.seq.desc())
        .limit(1)
    ).first()
    return (row.seq, row.hash) if row else (0, GENESIS_HASH)
