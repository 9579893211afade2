"""The one write path: every entry in the book is posted by ``post_entries``.

Every service (meetings, loans, rice, share-out, imports) builds ``EntryRequest``s and
calls this module; nothing else inserts into the journal. Each rule is checked here first,
in Python, to give a precise message; the database checks the same rules again when the
rows land (see the first migration), so a bug here or raw SQL cannot break the books.

Order of work for a batch: lock the groups, then the accounts, in id order (so concurrent
writers on PostgreSQL queue instead of deadlocking); resolve idempotency keys; validate;
extend each group's hash chain; insert the postings, then the entry rows, inside a
savepoint so that a refusal leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import uuid as uuid_module
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

from moneyed import Money
from sqlalchemy import func, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ledger.db import translate_db_error
from ledger.errors import (
    ClosedPeriod,
    CommodityMismatch,
    IdempotencyConflict,
    InsufficientBalance,
    InvalidAmount,
    InvalidEntry,
    LedgerError,
    ReversalError,
    TooFewPostings,
    UnbalancedEntry,
    UnknownAccount,
    UnknownGroup,
)
from ledger.hashing import entry_hash, request_hash
from ledger.models import (
    DEBIT_NORMAL,
    Account,
    Group,
    JournalEntry,
    PeriodClose,
    Posting,
)
from ledger.money import COMMODITIES, MAX_POSTING_MINOR, format_minor, from_minor, to_minor
from ledger.permissions import allow_posting
from ledger.plain_text import has_control
from ledger.queries import chain_head

EARLIEST_DATE = dt.date(1990, 1, 1)
# A date more than a year ahead is a typing mistake (2062 for 2026), not a plan.
FUTURE_LIMIT = dt.timedelta(days=366)
MAX_MEMO = 500
MAX_AUTHOR = 100
MAX_KEY = 200
_CHUNK = 500  # ids per IN (...) list: well under every engine's parameter limit


@dataclass(frozen=True, slots=True)
class Line:
    """One posting of a request: minor units on one account, debit positive.

    Build it from Money with ``Line.of``; the integer form is what the ledger stores.
    """

    account_id: int
    commodity: str
    minor: int

    @classmethod
    def of(cls, account_id: int, amount: Money) -> Line:
        return cls(account_id, amount.currency.code, to_minor(amount))

    @property
    def amount(self) -> Money:
        return from_minor(self.minor, self.commodity)


@dataclass(frozen=True, slots=True)
class EntryRequest:
    """What a caller asks to post. ``idempotency_key`` is made by the client, once."""

    group_id: int
    entry_date: dt.date
    memo: str
    lines: tuple[Line, ...]
    idempotency_key: str
    author: str
    reverses_seq: int | None = None


@dataclass(frozen=True, slots=True)
class PostedEntry:
    """The result of posting: where the entry sits in its group's chain.

    ``replayed`` is True when the key had been posted before with the same request and
    this call returned that first entry instead of posting again.
    """

    group_id: int
    seq: int
    uuid: str
    hash: str
    replayed: bool


def post_entry(
    session: Session, request: EntryRequest, *, now: dt.datetime | None = None
) -> PostedEntry:
    return post_entries(session, [request], now=now)[0]


def post_entries(
    session: Session, requests: Sequence[EntryRequest], *, now: dt.datetime | None = None
) -> list[PostedEntry]:
    """Post a batch of entries, all or nothing, in the order given.

    Raises a ``LedgerError`` subclass naming the first request that breaks a rule; then
    nothing of the batch is written.
    """
    if not requests:
        return []
    created_at = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(tzinfo=None)
    today = created_at.date()
    with _blame_on_request() as blame:
        for blame.index, request in enumerate(requests):
            _check_shape(request, today)

    group_ids = sorted({r.group_id for r in requests})
    for group_id in group_ids:
        poster = allow_posting(session, group_id).username
    # The journal names who posted: the signed-in user, whatever the request says.
    requests = [r if r.author == poster else replace(r, author=poster) for r in requests]
    groups = _lock_groups(session, group_ids)
    accounts = _lock_accounts(session, {line.account_id for r in requests for line in r.lines})
    known = _known_keys(session, requests)
    heads = {g: chain_head(session, g) for g in group_ids}
    closed = _closed_through(session, group_ids)
    reversal_targets = _reversal_targets(session, requests)

    balances = {a.id: a.balance for a in accounts.values()}
    results: list[PostedEntry] = []
    batch_keys: dict[tuple[int, str], tuple[str, PostedEntry]] = {}
    reversed_in_batch: set[tuple[int, int]] = set()
    posting_rows: list[dict[str, object]] = []
    entry_rows: list[dict[str, object]] = []

    with _blame_on_request() as blame:
        for blame.index, request in enumerate(requests):
            group_uuid = groups[request.group_id]
            _check_accounts_and_balance(request, accounts)
            reverses_uuid = _reversal_target(request, reversal_targets)
            fingerprint = request_hash(
                entry_date=request.entry_date,
                memo=request.memo,
                reverses_uuid=reverses_uuid,
                postings=[
                    (accounts[ln.account_id].uuid, ln.commodity, ln.minor) for ln in request.lines
                ],
            )
            key = (request.group_id, request.idempotency_key)
            earlier = batch_keys.get(key) or known.get(key)
            if earlier is not None:
                earlier_fingerprint, earlier_entry = earlier
                if earlier_fingerprint != fingerprint:
                    raise IdempotencyConflict(
                        f"The key {request.idempotency_key!r} was already used for a "
                        f"different entry (#{earlier_entry.seq}); nothing was posted. "
                        "Use a new key for a new entry."
                    )
                # Idempotency comes before every other check: a replay returns the first
                # entry even if, since then, it was reversed or its period was closed.
                results.append(replace(earlier_entry, replayed=True))
                continue
            if request.reverses_seq is not None:
                _check_not_yet_reversed(request, reversal_targets, reversed_in_batch)
                reversed_in_batch.add((request.group_id, request.reverses_seq))

            closed_through = closed.get(request.group_id)
            if closed_through is not None and request.entry_date <= closed_through:
                raise ClosedPeriod(
                    f"The books are closed up to {closed_through.isoformat()}; "
                    f"an entry dated {request.entry_date.isoformat()} cannot be posted. "
                    "Date the entry (or its correction) after the close."
                )
            _apply_and_check_no_negative(request, accounts, balances)

            head_seq, head_hash = heads[request.group_id]
            seq = head_seq + 1
            entry_uuid = str(uuid_module.uuid4())
            own_hash = entry_hash(
                group_uuid=group_uuid,
                seq=seq,
                uuid=entry_uuid,
                author=request.author,
                idempotency_key=request.idempotency_key,
                created_at=created_at,
                prev_hash=head_hash,
                request=fingerprint,
            )
            heads[request.group_id] = (seq, own_hash)
            for n, ln in enumerate(request.lines, start=1):
                posting_rows.append(
                    {
                        "group_id": request.group_id,
                        "entry_seq": seq,
                        "line_no": n,
                        "account_id": ln.account_id,
                        "commodity": ln.commodity,
                        "amount": ln.minor,
                    }
                )
            entry_rows.append(
                {
                    "group_id": request.group_id,
                    "seq": seq,
                    "uuid": entry_uuid,
                    "entry_date": request.entry_date,
                    "memo": request.memo,
                    "author": request.author,
                    "idempotency_key": request.idempotency_key,
                    "request_hash": fingerprint,
                    "reverses_seq": request.reverses_seq,
                    "created_at": created_at,
                    "prev_hash": head_hash,
                    "hash": own_hash,
                }
            )
            posted = PostedEntry(request.group_id, seq, entry_uuid, own_hash, False)
            batch_keys[key] = (fingerprint, posted)
            results.append(posted)

    if entry_rows:
        try:
            with session.begin_nested():
                session.execute(insert(Posting.__table__), posting_rows)
                session.execute(insert(JournalEntry.__table__), entry_rows)
        except DBAPIError as exc:
            raise translate_db_error(exc) from exc
    return results


def reverse_entry(
    session: Session,
    *,
    group_id: int,
    seq: int,
    entry_date: dt.date,
    idempotency_key: str,
    author: str,
    memo: str | None = None,
) -> PostedEntry:
    """Post the exact opposite of entry ``seq``, linked to it. The original stays."""
    original = session.execute(
        select(JournalEntry.memo).where(JournalEntry.group_id == group_id, JournalEntry.seq == seq)
    ).scalar_one_or_none()
    if original is None:
        raise ReversalError(f"There is no entry #{seq} in this group to reverse.")
    lines = session.execute(
        select(Posting.account_id, Posting.commodity, Posting.amount)
        .where(Posting.group_id == group_id, Posting.entry_seq == seq)
        .order_by(Posting.line_no)
    ).all()
    return post_entry(
        session,
        EntryRequest(
            group_id=group_id,
            entry_date=entry_date,
            memo=memo if memo is not None else f"Reversal of #{seq}: {original}"[:MAX_MEMO],
            lines=tuple(Line(a, c, -amount) for a, c, amount in lines),
            idempotency_key=idempotency_key,
            author=author,
            reverses_seq=seq,
        ),
    )


# --- checks ------------------------------------------------------------------------------


class _Blame:
    index = 0


@contextmanager
def _blame_on_request() -> Iterator[_Blame]:
    """Record which request of a batch a refusal is about (see LedgerError.entry_index)."""
    blame = _Blame()
    try:
        yield blame
    except LedgerError as exc:
        exc.entry_index = blame.index
        raise


def _check_text(value: object, label: str, limit: int, *, required: bool) -> None:
    if not isinstance(value, str):
        raise InvalidEntry(f"The {label} must be text.")
    if required and not value.strip():
        raise InvalidEntry(f"The {label} is empty.")
    if len(value) > limit:
        raise InvalidEntry(f"The {label} is longer than {limit} characters.")
    if has_control(value):
        raise InvalidEntry(f"The {label} contains control characters (such as tabs or NUL).")


def _check_shape(request: EntryRequest, today: dt.date) -> None:
    _check_text(request.idempotency_key, "idempotency key", MAX_KEY, required=True)
    _check_text(request.memo, "description", MAX_MEMO, required=False)
    _check_text(request.author, "author", MAX_AUTHOR, required=True)
    date = request.entry_date
    if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
        raise InvalidEntry("The entry date must be a date (no time of day).")
    if date < EARLIEST_DATE or date > today + FUTURE_LIMIT:
        raise InvalidEntry(
            f"The date {date.isoformat()} is out of range; it must be between "
            f"{EARLIEST_DATE.isoformat()} and {(today + FUTURE_LIMIT).isoformat()}."
        )
    if len(request.lines) < 2:
        raise TooFewPostings(
            "An entry needs at least two postings (money comes from one account "
            "and goes to another)."
        )
    for line in request.lines:
        if not isinstance(line, Line):
            raise InvalidEntry(f"Postings must be ledger Lines, got {line!r}.")
        if line.commodity not in COMMODITIES:
            raise InvalidEntry(f"Unknown commodity {line.commodity!r}.")
        if not isinstance(line.minor, int) or isinstance(line.minor, bool):
            raise InvalidAmount(f"Amounts must be whole minor units, got {line.minor!r}.")
        if line.minor == 0:
            raise InvalidAmount("A posting of zero moves nothing; leave it out.")
        if abs(line.minor) > MAX_POSTING_MINOR:
            raise InvalidAmount(
                f"{format_minor(line.minor, line.commodity)} is beyond the largest "
                "amount the ledger accepts."
            )
    totals: dict[str, int] = defaultdict(int)
    for line in request.lines:
        totals[line.commodity] += line.minor
    off = {c: t for c, t in totals.items() if t != 0}
    if off:
        detail = ", ".join(
            f"{format_minor(t, c)} too much on the debit side"
            if t > 0
            else f"{format_minor(-t, c)} too much on the credit side"
            for c, t in sorted(off.items())
        )
        raise UnbalancedEntry(
            f"The entry does not balance: {detail}. Each commodity's debits must "
            "equal its credits (riel, dollars and rice are never netted against each other)."
        )


def _check_accounts_and_balance(request: EntryRequest, accounts: dict[int, _AccountState]) -> None:
    for line in request.lines:
        account = accounts.get(line.account_id)
        if account is None or account.group_id != request.group_id:
            raise UnknownAccount(f"Account #{line.account_id} is not an account of this group.")
        if account.commodity != line.commodity:
            raise CommodityMismatch(
                f"{format_minor(line.minor, line.commodity)} cannot go to "
                f"{account.name}, which keeps {account.commodity}."
            )


def _apply_and_check_no_negative(
    request: EntryRequest, accounts: dict[int, _AccountState], balances: dict[int, int]
) -> None:
    moved: dict[int, int] = defaultdict(int)
    for line in request.lines:
        moved[line.account_id] += line.minor
    for account_id, delta in moved.items():
        account = accounts[account_id]
        after = balances[account_id] + delta
        if account.no_negative:
            natural = after if account.type in DEBIT_NORMAL else -after
            if natural < 0:
                have = (
                    balances[account_id] if account.type in DEBIT_NORMAL else -balances[account_id]
                )
                raise InsufficientBalance(
                    f"{account.name} has {format_minor(have, account.commodity)}; this "
                    f"entry would take it to {format_minor(natural, account.commodity)}, "
                    "and it may not go below zero."
                )
    for account_id, delta in moved.items():
        balances[account_id] += delta


def _reversal_target(
    request: EntryRequest, targets: dict[tuple[int, int], tuple[str, bool]]
) -> str | None:
    """The uuid of the entry a request reverses (None if it reverses nothing)."""
    if request.reverses_seq is None:
        return None
    target = targets.get((request.group_id, request.reverses_seq))
    if target is None:
        raise ReversalError(f"There is no entry #{request.reverses_seq} in this group to reverse.")
    return target[0]


def _check_not_yet_reversed(
    request: EntryRequest,
    targets: dict[tuple[int, int], tuple[str, bool]],
    reversed_in_batch: set[tuple[int, int]],
) -> None:
    key = (request.group_id, request.reverses_seq or 0)
    if targets[key][1] or key in reversed_in_batch:
        raise ReversalError(f"Entry #{request.reverses_seq} has already been reversed.")


# --- reads (with locks) ------------------------------------------------------------------


def _chunks(values: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


def _lock_groups(session: Session, group_ids: list[int]) -> dict[int, str]:
    rows = session.execute(
        select(Group.id, Group.uuid)
        .where(Group.id.in_(group_ids))
        .order_by(Group.id)
        .with_for_update()
    ).all()
    found = {row.id: row.uuid for row in rows}
    missing = [g for g in group_ids if g not in found]
    if missing:
        raise UnknownGroup(f"There is no group with id {missing[0]} in this book.")
    return found


@dataclass(frozen=True, slots=True)
class _AccountState:
    """An account as locked for this batch; balances come from the database, fresh."""

    id: int
    group_id: int
    uuid: str
    name: str
    commodity: str
    type: str
    no_negative: bool
    balance: int


def _lock_accounts(session: Session, account_ids: set[int]) -> dict[int, _AccountState]:
    found: dict[int, _AccountState] = {}
    columns = [getattr(Account, f) for f in _AccountState.__slots__]
    for chunk in _chunks(account_ids):
        rows = session.execute(
            select(*columns).where(Account.id.in_(chunk)).order_by(Account.id).with_for_update()
        )
        for row in rows:
            found[row.id] = _AccountState(*row)
    return found


def _known_keys(
    session: Session, requests: Sequence[EntryRequest]
) -> dict[tuple[int, str], tuple[str, PostedEntry]]:
    wanted: dict[int, set[str]] = defaultdict(set)
    for r in requests:
        wanted[r.group_id].add(r.idempotency_key)
    known: dict[tuple[int, str], tuple[str, PostedEntry]] = {}
    for group_id, keys in wanted.items():
        ordered = sorted(keys)
        for start in range(0, len(ordered), _CHUNK):
            rows = session.execute(
                select(
                    JournalEntry.idempotency_key,
                    JournalEntry.request_hash,
                    JournalEntry.seq,
                    JournalEntry.uuid,
                    JournalEntry.hash,
                ).where(
                    JournalEntry.group_id == group_id,
                    JournalEntry.idempotency_key.in_(ordered[start : start + _CHUNK]),
                )
            )
            for row in rows:
                known[(group_id, row.idempotency_key)] = (
                    row.request_hash,
                    PostedEntry(group_id, row.seq, row.uuid, row.hash, True),
                )
    return known


def _closed_through(session: Session, group_ids: list[int]) -> dict[int, dt.date]:
    rows = session.execute(
        select(PeriodClose.group_id, func.max(PeriodClose.closed_through))
        .where(PeriodClose.group_id.in_(group_ids))
        .group_by(PeriodClose.group_id)
    ).all()
    return {g: d for g, d in rows if d is not None}


def _reversal_targets(
    session: Session, requests: Sequence[EntryRequest]
) -> dict[tuple[int, int], tuple[str, bool]]:
    """For each entry a request wants to reverse: its uuid, and whether it is reversed."""
    targets: dict[tuple[int, int], tuple[str, bool]] = {}
    for r in requests:
        if r.reverses_seq is None or (r.group_id, r.reverses_seq) in targets:
            continue
        row = session.execute(
            select(JournalEntry.uuid).where(
                JournalEntry.group_id == r.group_id, JournalEntry.seq == r.reverses_seq
            )
        ).first()
        if row is None:
            continue
        already = session.execute(
            select(JournalEntry.seq).where(
                JournalEntry.group_id == r.group_id, JournalEntry.reverses_seq == r.reverses_seq
            )
        ).first()
        targets[(r.group_id, r.reverses_seq)] = (row.uuid, already is not None)
    return targets


# --- entries posted by another book --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReplicatedEntry:
    """An entry exactly as its home book posted it (from a sync bundle): the postings
    name accounts by UUID, so they mean the same in every book."""

    seq: int
    uuid: str
    entry_date: dt.date
    memo: str
    author: str
    idempotency_key: str
    request_hash: str
    reverses_seq: int | None
    created_at: dt.datetime
    prev_hash: str
    hash: str
    postings: tuple[tuple[str, str, int], ...]  # (account uuid, commodity, minor amount)


def replicate_entries(
    session: Session,
    group_id: int,
    entries: Sequence[ReplicatedEntry],
    account_ids: dict[str, int],
    reversed_uuids: dict[int, str],
) -> int:
    """Append entries another book posted to this book's copy of the group's chain.

    Nothing is taken on trust: each entry's request hash and chain hash are worked out
    again from its content and must match, and each must follow the last one here, or
    the whole batch is refused naming the entry. The rows then land through the same
    inserts (and the same database guards) as ``post_entries``. ``reversed_uuids`` maps
    the sequence numbers of entries reversed in the batch to their UUIDs.
    """
    if not entries:
        return 0
    group_uuid = _lock_groups(session, [group_id])[group_id]
    head_seq, head_hash = chain_head(session, group_id)
    posting_rows: list[list[dict[str, object]]] = []  # per entry
    entry_rows: list[dict[str, object]] = []
    for e in entries:
        if e.seq != head_seq + 1 or e.prev_hash != head_hash:
            raise InvalidEntry(
                f"Entry #{e.seq} does not follow entry #{head_seq} of this book's chain."
            )
        reverses_uuid = None if e.reverses_seq is None else reversed_uuids.get(e.reverses_seq)
        fingerprint = request_hash(
            entry_date=e.entry_date, memo=e.memo, reverses_uuid=reverses_uuid, postings=e.postings
        )
        link = entry_hash(
            group_uuid=group_uuid,
            seq=e.seq,
            uuid=e.uuid,
            author=e.author,
            idempotency_key=e.idempotency_key,
            created_at=e.created_at,
            prev_hash=e.prev_hash,
            request=fingerprint,
        )
        if fingerprint != e.request_hash or link != e.hash:
            raise InvalidEntry(
                f"Entry #{e.seq} ({e.uuid}) was changed after it was posted: its content "
                "does not match its hash."
            )
        lines: list[dict[str, object]] = []
        for n, (account_uuid, commodity, amount) in enumerate(e.postings, start=1):
            if account_uuid not in account_ids:
                raise UnknownAccount(f"Entry #{e.seq} names an account this book does not have.")
            lines.append(
                {
                    "group_id": group_id,
                    "entry_seq": e.seq,
                    "line_no": n,
                    "account_id": account_ids[account_uuid],
                    "commodity": commodity,
                    "amount": amount,
                }
            )
        posting_rows.append(lines)
        entry_rows.append(
            {
                "group_id": group_id,
                "seq": e.seq,
                "uuid": e.uuid,
                "entry_date": e.entry_date,
                "memo": e.memo,
                "author": e.author,
                "idempotency_key": e.idempotency_key,
                "request_hash": e.request_hash,
                "reverses_seq": e.reverses_seq,
                "created_at": e.created_at,
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            }
        )
        head_seq, head_hash = e.seq, e.hash
    try:
        with session.begin_nested():
            for start in range(0, len(entry_rows), _CHUNK):
                end = start + _CHUNK
                lines = [line for rows in posting_rows[start:end] for line in rows]
                session.execute(insert(Posting.__table__), lines)
                session.execute(insert(JournalEntry.__table__), entry_rows[start:end])
    except DBAPIError as exc:
        raise translate_db_error(exc) from exc
    return len(entry_rows)
