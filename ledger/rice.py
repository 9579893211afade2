"""The rice bank's stock: rice coming in, counted, bought and sold.

Rice is its own commodity (``RICE``, counted in grams, shown in kg) and never mixes with
money in an entry:

- **Stock in**: opening stock and members' contributions go to ``Assets:Rice stock``
  against ``Equity:Rice capital``.
- **Counts**: a physical count that differs from the books posts the difference to a
  losses account for its reason (pests, damp, theft, other).
- **Purchases and sales** for cash at a recorded price go through ``Equity:Trading:Rice``,
  which has a rice side and a money side, so each entry balances in each commodity and
  the price is kept in the books rather than converted silently.

Rice loans are in ``ledger.rice_loans`` and the whole picture on a day in
``ledger.rice_position``; the helpers here (dates, quantities, posting) serve all three.
Every operation posts through the one write path and records what happened in an
append-only table. Operations that move cash are refused while a meeting is open, since
its expected cash was worked out from the cash box when it opened.
"""

from __future__ import annotations

import datetime as dt
import uuid as uuid_module
from dataclasses import dataclass
from decimal import Decimal

from moneyed import Money
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.chart import GroupAccounts, balance_of
from ledger.errors import LedgerError
from ledger.groups import get_group
from ledger.members import MemberRecord, find_member
from ledger.models import (
    JournalEntry,
    Posting,
    RiceEvent,
)
from ledger.money import format_minor, to_minor
from ledger.permissions import allow
from ledger.posting import EntryRequest, Line, PostedEntry, post_entry
from ledger.queries import POSTING_ENTRY, open_meeting_of

RICE = "RICE"
GRAMS_PER_KG = 1000
LOSS_REASONS = ("pests", "damp", "theft", "other")


class RiceError(LedgerError):
    """A rice bank operation that cannot be recorded as asked."""


def kg(grams: int) -> str:
    """Grams as the kilograms people read ("1,250.5 kg")."""
    text = f"{Decimal(grams) / GRAMS_PER_KG:,.3f}".rstrip("0").rstrip(".")
    return f"{text} kg"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def rice_grams(quantity: Money, label: str) -> int:
    grams = to_minor(quantity, expected=RICE)
    if grams <= 0:
        raise RiceError(f"The {label} must be more than 0 kg.")
    return grams


def check_rice_day(on: dt.date, today: dt.date | None) -> None:
    if on > (today or dt.date.today()):
        raise RiceError(f"Rice movements cannot be dated in the future ({on.isoformat()}).")


def refuse_during_meeting(session: Session, group_id: int) -> None:
    """Cash moved outside a meeting would make an open meeting's expected cash wrong."""
    still_open = open_meeting_of(session, group_id)
    if still_open is not None:
        number, day = still_open
        raise RiceError(
            f"Meeting #{number} of {day.isoformat()} is open; close it first, then record "
            "rice bought, sold or repaid in cash."
        )


def post_rice_entry(
    session: Session,
    group_id: int,
    on: dt.date,
    memo: str,
    lines: list[tuple[int, str, int]],
    author: str,
    key: str | None,
) -> PostedEntry:
    return post_entry(
        session,
        EntryRequest(
            group_id=group_id,
            entry_date=on,
            memo=memo[:500],
            lines=tuple(Line(a, c, m) for a, c, m in lines if m),
            idempotency_key=f"rice:{key or uuid_module.uuid4()}",
            author=author,
        ),
    )


def already_posted(session: Session, group_id: int, key: str | None) -> int | None:
    """The entry a client's key already posted, if any: a retry returns what the first
    call did instead of working anything out again from a book it has since changed."""
    if key is None:
        return None
    return session.execute(
        select(JournalEntry.seq).where(
            JournalEntry.group_id == group_id, JournalEntry.idempotency_key == f"rice:{key}"
        )
    ).scalar()


def price_per_kg(cash_minor: int, grams: int, currency: str) -> str:
    per_kg = Decimal(cash_minor) * GRAMS_PER_KG / grams
    return f"{per_kg.quantize(Decimal('0.01')):,} {currency} per kg"


# --- stock in ------------------------------------------------------------------------------


def receive_rice(
    session: Session,
    group_id: int,
    quantity: Money,
    *,
    on: dt.date,
    member_code: str | None = None,
    note: str = "",
    key: str | None = None,
    today: dt.date | None = None,
) -> int:
    """Opening stock (no member) or a member's contribution, into stock as rice capital.

    Returns the grams received.
    """
    recorded_by = allow(session, "record", group_id, audit=f"received rice on {on}").username
    grams = rice_grams(quantity, "quantity received")
    check_rice_day(on, today)
    accounts = GroupAccounts(session, group_id)
    member = active_member(session, group_id, member_code, on) if member_code else None
    what = f"Rice contributed by {member.code} {member.name_latin}" if member else "Rice stock"
    entry = post_rice_entry(
        session,
        group_id,
        on,
        f"{what}: {kg(grams)}" + (f" — {note.strip()}" if note.strip() else ""),
        [
            (accounts.get("rice_stock").id, RICE, grams),
            (accounts.get("rice_capital").id, RICE, -grams),
        ],
        recorded_by,
        key,
    )
    if not entry.replayed:
        _event(
            session,
            group_id,
            "contribution" if member else "opening",
            on,
            grams,
            recorded_by,
            entry.seq,
            member_id=member.id if member else None,
            note=note,
        )
    return grams


def active_member(session: Session, group_id: int, code: str, on: dt.date) -> MemberRecord:
    member = find_member(session, group_id, code)
    if not member.active_on(on):
        raise RiceError(f"{member.code} is not a member of the group on {on.isoformat()}.")
    return member


def _event(
    session: Session,
    group_id: int,
    kind: str,
    on: dt.date,
    quantity: int,
    recorded_by: str,
    entry_seq: int | None,
    **details: object,
) -> None:
    session.add(
        RiceEvent(
            group_id=group_id,
            kind=kind,
            event_date=on,
            quantity=quantity,
            recorded_by=recorded_by,
            entry_seq=entry_seq,
            created_at=utc_now(),
            **{k: v for k, v in details.items() if k != "note"},
            note=str(details.get("note") or "").strip()[:500],
        )
    )
    session.flush()


# --- counts and trade ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CountResult:
    counted: int
    expected: int

    @property
    def difference(self) -> int:
        return self.counted - self.expected


def count_stock(
    session: Session,
    group_id: int,
    counted: Money,
    *,
    on: dt.date,
    reason: str | None = None,
    note: str = "",
    key: str | None = None,
    today: dt.date | None = None,
) -> CountResult:
    """Record a physical count. A difference from the books is posted to the losses
    account for ``reason`` (a surplus is posted there too, as a negative loss)."""
    recorded_by = allow(
        session, "record", group_id, audit=f"counted the rice stock on {on}"
    ).username
    grams = to_minor(counted, expected=RICE)
    if grams < 0:
        raise RiceError("The counted stock cannot be negative.")
    seq = already_posted(session, group_id, key)
    if seq is not None:
        first = session.execute(
            select(RiceEvent).where(RiceEvent.group_id == group_id, RiceEvent.entry_seq == seq)
        ).scalar_one()
        return CountResult(first.quantity, first.expected or 0)
    check_rice_day(on, today)
    accounts = GroupAccounts(session, group_id)
    stock = accounts.get("rice_stock").id
    last = _last_movement(session, stock)
    if last is not None and last > on:
        raise RiceError(
            f"The rice stock moved on {last.isoformat()}; a count must be dated on or after "
            "the last movement."
        )
    expected = balance_of(session, stock)
    difference = grams - expected
    seq = None
    if difference:
        if reason not in LOSS_REASONS:
            raise RiceError(
                f"The count is {kg(abs(difference))} {'over' if difference > 0 else 'short'}; "
                f"give the reason: {', '.join(LOSS_REASONS)}."
            )
        if reason == "other" and not note.strip():
            raise RiceError("For a loss of reason 'other', write what happened in a note.")
        entry = post_rice_entry(
            session,
            group_id,
            on,
            f"Rice count {kg(grams)}, books {kg(expected)}: "
            f"{'surplus' if difference > 0 else 'loss'} of {kg(abs(difference))} ({reason})"
            + (f" — {note.strip()}" if note.strip() else ""),
            [
                (stock, RICE, difference),
                (accounts.get(f"rice_losses_{reason}").id, RICE, -difference),
            ],
            recorded_by,
            key,
        )
        if entry.replayed:
            return CountResult(grams, grams - difference)
        seq = entry.seq
    _event(
        session,
        group_id,
        "count",
        on,
        grams,
        recorded_by,
        seq,
        expected=expected,
        reason=reason if difference else None,
        note=note,
    )
    return CountResult(grams, expected)


def _last_movement(session: Session, account_id: int) -> dt.date | None:
    return session.execute(
        select(func.max(JournalEntry.entry_date))
        .join(Posting, POSTING_ENTRY)
        .where(Posting.account_id == account_id)
    ).scalar()


def trade_rice(
    session: Session,
    group_id: int,
    kind: str,
    quantity: Money,
    cash: Money,
    *,
    on: dt.date,
    counterparty: str,
    key: str | None = None,
    today: dt.date | None = None,
) -> int:
    """Buy (``kind="purchase"``) or sell (``"sale"``) rice for cash from the cash box,
    through the trading account. Returns the entry's sequence number."""
    recorded_by = allow(
        session, "record", group_id, audit=f"{kind} rice on {on} ({counterparty})"
    ).username
    if kind not in ("purchase", "sale"):
        raise RiceError("Rice is either bought (purchase) or sold (sale).")
    grams = rice_grams(quantity, "quantity")
    check_rice_day(on, today)
    currency = get_group(session, group_id).currency
    money = to_minor(cash, expected=currency)
    if money <= 0:
        raise RiceError("The price paid or received must be more than 0.")
    if not counterparty.strip():
        raise RiceError("Write who the rice was bought from or sold to.")
    refuse_during_meeting(session, group_id)
    accounts = GroupAccounts(session, group_id)
    stock, cash_box = accounts.get("rice_stock").id, accounts.get("cash_box").id
    sign = 1 if kind == "purchase" else -1
    if kind == "sale" and grams > balance_of(session, stock):
        raise RiceError(
            f"The rice bank holds {kg(balance_of(session, stock))}; it cannot sell {kg(grams)}."
        )
    if kind == "purchase" and money > balance_of(session, cash_box):
        raise RiceError(
            f"The cash box holds {format_minor(balance_of(session, cash_box), currency)}; "
            f"it cannot pay {format_minor(money, currency)}."
        )
    verb = "bought from" if kind == "purchase" else "sold to"
    entry = post_rice_entry(
        session,
        group_id,
        on,
        f"Rice {verb} {counterparty.strip()}: {kg(grams)} for {format_minor(money, currency)} "
        f"({price_per_kg(money, grams, currency)})",
        [
            (stock, RICE, sign * grams),
            (accounts.get("rice_trading").id, RICE, -sign * grams),
            (accounts.get("rice_trading_money").id, currency, sign * money),
            (cash_box, currency, -sign * money),
        ],
        recorded_by,
        key,
    )
    if not entry.replayed:
        _event(
            session,
            group_id,
            kind,
            on,
            grams,
            recorded_by,
            entry.seq,
            cash_amount=money,
            counterparty=counterparty.strip()[:200],
        )
    return entry.seq
