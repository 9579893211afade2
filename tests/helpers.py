"""Small builders shared by the tests: a group with a few accounts, a simple transfer."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session

from ledger.accounts import AccountRecord, open_account
from ledger.db import Book
from ledger.groups import GroupRecord, create_group
from ledger.money import money
from ledger.permissions import ROLES, Actor
from ledger.posting import EntryRequest, Line, PostedEntry, post_entry

T = TypeVar("T")
# The tests run as a treasurer who holds every role in every group and administers the
# book, so each test states only what it is about; approvals take a second person.
TESTER = Actor(0, "treasurer", "Test treasurer", True, {}, frozenset(ROLES))
CHAIR = Actor(0, "chair", "Test chair", False, {}, frozenset({"chair"}))
DAY = dt.date(2026, 3, 2)
_keys = itertools.count(1)


def new_key() -> str:
    return f"test-{next(_keys)}"


@dataclass(frozen=True)
class Books:
    group: GroupRecord
    cash: AccountRecord  # Assets:Cash box, KHR, may not go negative
    savings: AccountRecord  # Liabilities:Savings:Dara, KHR, may not go negative
    income: AccountRecord  # Income:Interest, KHR
    usd_cash: AccountRecord  # Assets:Cash box, USD
    rice: AccountRecord  # Assets:Rice stock, RICE, may not go negative
    rice_equity: AccountRecord  # Equity:Rice contributed, RICE


def make_group(book: Book, code: str = "SR-01") -> Books:
    def build(session):  # type: ignore[no-untyped-def]
        g = create_group(session, code, f"Group {code}", chart=False)
        return Books(
            g,
            open_account(session, g.id, "Assets:Cash box", "KHR", no_negative=True),
            open_account(session, g.id, "Liabilities:Savings:Dara", "KHR", no_negative=True),
            open_account(session, g.id, "Income:Interest", "KHR"),
            open_account(session, g.id, "Assets:Cash box", "USD"),
            open_account(session, g.id, "Assets:Rice stock", "RICE", no_negative=True),
            open_account(session, g.id, "Equity:Rice contributed", "RICE"),
        )

    return book.write(build)


def transfer(
    group_id: int,
    debit: AccountRecord,
    credit: AccountRecord,
    amount: str | int,
    *,
    key: str | None = None,
    date: dt.date = DAY,
    memo: str = "test",
) -> EntryRequest:
    value = money(amount, debit.commodity)
    return EntryRequest(
        group_id=group_id,
        entry_date=date,
        memo=memo,
        lines=(Line.of(debit.id, value), Line.of(credit.id, -value)),
        idempotency_key=key or new_key(),
        author="tester",
    )


def post(book: Book, request: EntryRequest) -> PostedEntry:
    return book.write(lambda session: post_entry(session, request))


def read(book: Book, question: Callable[[Session], T]) -> T:
    """Ask one question of the book in a read-only session."""
    with book.read() as session:
        return question(session)
