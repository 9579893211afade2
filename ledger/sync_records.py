"""A group's records beyond its journal, carried in sync bundles and applied on arrival.

The journal says what money and rice moved; the records say why and what is owed: the
meetings and their collection sheets, the loans with their schedules and events, the
group's own borrowings, the rice bank, the share-outs and the period closes. The
central book needs them for its portfolio, arrears and statements to equal the
village's.

Each table's rows travel without their integer ids, which differ between books. A row
is known by a *portable key*: its UUID where it has one, else the columns that make it
unique in its group (a cycle's number, a schedule line's loan and number). A column that
points at another row carries that row's portable key instead of its id.

On arrival (``apply_records``), tables are taken in dependency order. Records that never
change once written (schedules, events, rice, share-outs) are added when missing. Ones
that change at the home (a cycle, a loan's status, an open meeting) are brought up to
date, unless this book's copy is already frozen by the database's own rules (a closed
meeting or cycle), which it reached with the same content. An open meeting's sheet lines,
items and repayments are replaced whole, so a line removed from a draft at home goes
here too.

Period closes are tied to a chain position (the database checks the chain head when one
is written), so ``ledger.sync`` writes them between batches of entries, with
``insert_period_close``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import Date, DateTime, Select, delete, insert, select
from sqlalchemy.orm import Session

from ledger.audit import record_event
from ledger.errors import SyncRejected
from ledger.hashing import timestamp_text
from ledger.models import (
    AuditEvent,
    Base,
    Cycle,
    GroupBorrowing,
    GroupBorrowingInstalment,
    GroupBorrowingPayment,
    Loan,
    LoanEvent,
    LoanInstalment,
    LoanProduct,
    Meeting,
    MeetingCancellation,
    MeetingItem,
    MeetingLine,
    MeetingRepayment,
    PeriodClose,
    PeriodCloseBalance,
    RiceEvent,
    RiceLoan,
    RiceProduct,
    RiceRepayment,
    Shareout,
    ShareoutDeduction,
    ShareoutPayout,
)

PortableKey = Any  # a UUID or number, or a list of them for a key of several columns


@dataclass(frozen=True)
class TableSpec:
    """How one table's rows travel.

    ``how``: ``"update"`` (brought up to date unless frozen here), ``"add"`` (written
    once, never changed) or ``"sheet"`` (an open meeting's lines, replaced whole).
    ``refs``: column → the table its value points at. ``parent``: for a table without a
    ``group_id`` column, the column and table through which it belongs to the group.
    """

    model: type[Base]
    key: tuple[str, ...]
    how: str
    refs: Mapping[str, str] = field(default_factory=dict)
    parent: tuple[str, str] | None = None
    frozen_status: str | None = None  # a row with this status here is never changed

    @property
    def table(self) -> str:
        return self.model.__tablename__

    @cached_property
    def columns(self) -> tuple[str, ...]:
        """The columns a row carries (read for every row, so worked out once)."""
        return tuple(
            c.name for c in self.model.__table__.columns if c.name not in ("id", "group_id")
        )

    def key_of(self, row: Mapping[str, Any]) -> PortableKey:
        values = [row[c] for c in self.key]
        return values[0] if len(values) == 1 else values


MEMBER = {"member_id": "members"}
SPECS: tuple[TableSpec, ...] = (
    TableSpec(Cycle, ("number",), "update", frozen_status="closed"),
    TableSpec(LoanProduct, ("code",), "update"),
    TableSpec(RiceProduct, ("code",), "add"),
    TableSpec(Meeting, ("uuid",), "update", {"cycle_id": "cycles"}, frozen_status="closed"),
    TableSpec(MeetingCancellation, ("meeting_date",), "update"),
    TableSpec(
        Loan,
        ("uuid",),
        "update",
        {
            **MEMBER,
            "product_id": "loan_products",
            "disburse_meeting_id": "meetings",
            "account_id": "accounts",
        },
    ),
    TableSpec(LoanInstalment, ("loan_id", "number"), "add", {"loan_id": "loans"}),
    TableSpec(LoanEvent, ("loan_id", "kind", "created_at"), "add", {"loan_id": "loans"}),
    TableSpec(MeetingLine, (), "sheet", {"meeting_id": "meetings", **MEMBER}),
    TableSpec(MeetingItem, (), "sheet", {"meeting_id": "meetings", **MEMBER}),
    TableSpec(MeetingRepayment, (), "sheet", {"meeting_id": "meetings", "loan_id": "loans"}),
    TableSpec(GroupBorrowing, ("uuid",), "update", {"account_id": "accounts"}),
    TableSpec(
        GroupBorrowingInstalment,
        ("borrowing_id", "number"),
        "add",
        {"borrowing_id": "group_borrowings"},
        parent=("borrowing_id", "group_borrowings"),
    ),
    TableSpec(
        GroupBorrowingPayment,
        ("borrowing_id", "entry_seq"),
        "add",
        {"borrowing_id": "group_borrowings"},
        parent=("borrowing_id", "group_borrowings"),
    ),
    TableSpec(
        RiceLoan,
        ("uuid",),
        "add",
        {**MEMBER, "product_id": "rice_products", "account_id": "accounts"},
    ),
    TableSpec(RiceRepayment, ("entry_seq",), "add", {"loan_id": "rice_loans"}),
    TableSpec(RiceEvent, ("kind", "event_date", "created_at"), "add", MEMBER),
    TableSpec(Shareout, ("uuid",), "add", {"cycle_id": "cycles"}),
    TableSpec(
        ShareoutPayout, ("shareout_id", "member_id"), "add", {"shareout_id": "shareouts", **MEMBER}
    ),
    TableSpec(
        ShareoutDeduction,
        ("shareout_id", "loan_id"),
        "add",
        {"shareout_id": "shareouts", "loan_id": "loans"},
    ),
)
CLOSE_COLUMNS = ("closed_through", "closed_at", "closed_by", "head_seq", "head_hash")
AUDIT_COLUMNS = ("seq", "at", "actor", "action", "outcome", "detail")


def plain(value: Any) -> Any:
    """A column's value as JSON carries it (dates and times as ISO text)."""
    if isinstance(value, dt.datetime):
        return timestamp_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# --- writing ------------------------------------------------------------------------------


def export_records(
    session: Session, group_id: int, members: Mapping[int, str], accounts: Mapping[int, str]
) -> dict[str, Any]:
    """Every record of the group, by portable keys (``members``, ``accounts``: id → UUID)."""
    keys: dict[str, dict[int, PortableKey]] = {"members": dict(members), "accounts": dict(accounts)}
    out: dict[str, Any] = {}
    for spec in SPECS:
        rows = []
        ids: dict[int, PortableKey] = {}
        for obj in session.execute(_scope(spec, group_id, keys)).scalars():
            row = {c: _portable(spec, c, getattr(obj, c), keys) for c in spec.columns}
            rows.append(row)
            if "id" in spec.model.__table__.columns:
                ids[obj.id] = spec.key_of(row)
        keys[spec.table] = ids
        out[spec.table] = rows
    out["period_closes"] = _period_closes(session, group_id, accounts)
    out["audit_events"] = [
        {c: plain(getattr(e, c)) for c in AUDIT_COLUMNS}
        for e in session.execute(
            select(AuditEvent).where(AuditEvent.group_id == group_id).order_by(AuditEvent.seq)
        ).scalars()
    ]
    return out


def _scope(spec: TableSpec, group_id: int, keys: Mapping[str, Mapping[int, Any]]) -> Select[Any]:
    model = spec.model
    table = model.__table__
    if spec.parent is None:
        query = select(model).where(table.c.group_id == group_id)
    else:
        column, parent = spec.parent
        query = select(model).where(table.c[column].in_(list(keys[parent])))
    return query.order_by(*table.primary_key.columns)


def _portable(
    spec: TableSpec, column: str, value: Any, keys: Mapping[str, Mapping[int, Any]]
) -> Any:
    if value is not None and column in spec.refs:
        return keys[spec.refs[column]][value]
    return plain(value)


def _period_closes(
    session: Session, group_id: int, accounts: Mapping[int, str]
) -> list[dict[str, Any]]:
    closes = (
        session.execute(
            select(PeriodClose)
            .where(PeriodClose.group_id == group_id)
            .order_by(PeriodClose.head_seq, PeriodClose.id)
        )
        .scalars()
        .all()
    )
    balances: dict[int, list[list[Any]]] = {}
    if closes:
        for b in session.execute(
            select(PeriodCloseBalance)
            .where(PeriodCloseBalance.close_id.in_([c.id for c in closes]))
            .order_by(PeriodCloseBalance.close_id, PeriodCloseBalance.account_id)
        ).scalars():
            balances.setdefault(b.close_id, []).append(
                [accounts[b.account_id], b.commodity, b.balance]
            )
    return [
        {**{c: plain(getattr(p, c)) for c in CLOSE_COLUMNS}, "balances": balances.get(p.id, [])}
        for p in closes
    ]


# --- taking -------------------------------------------------------------------------------


def apply_records(
    session: Session,
    group_id: int,
    records: Mapping[str, Any],
    members: Mapping[str, int],
    accounts: Mapping[str, int],
) -> int:
    """Bring this book's copy of the group's records to the bundle's; returns how many
    rows were added, changed or removed. A record the database will not take (it breaks
    one of the book's rules) refuses the whole import, as ``Book.write`` reports it."""
    ids: dict[str, dict[Any, int]] = {"members": dict(members), "accounts": dict(accounts)}
    names: dict[str, dict[int, Any]] = {t: {v: k for k, v in m.items()} for t, m in ids.items()}
    meetings: dict[Any, Meeting] = {}
    closing: dict[Any, dict[str, Any]] = {}  # meetings closed at home, closed here last
    changed = 0
    for spec in SPECS:
        rows = [_local_values(spec, row, ids, group_id) for row in records.get(spec.table, [])]
        if spec.how == "sheet":
            still_open = {m.id for m in meetings.values() if m.status == "open"}
            changed += _replace_sheet(session, spec, rows, still_open)
            continue
        held = {
            _held_key(spec, obj, names): obj
            for obj in session.execute(_scope(spec, group_id, names)).scalars()
        }
        for values, key in rows:
            obj = held.get(key)
            if spec.model is Meeting and values["status"] == "closed" and not _frozen(spec, obj):
                closing[key] = {c: values.pop(c) for c in ("status", "closed_by", "closed_at")}
            if obj is None:
                held[key] = obj = spec.model(**values)
                session.add(obj)
                changed += 1
            elif spec.how == "update" and not _frozen(spec, obj):
                changes = {c: v for c, v in values.items() if getattr(obj, c) != v}
                for c, v in changes.items():
                    setattr(obj, c, v)
                changed += bool(changes)
        session.flush()
        if spec.model is Meeting:
            meetings = held
        if "id" in spec.model.__table__.columns:
            ids[spec.table] = {k: obj.id for k, obj in held.items()}
            names[spec.table] = {obj.id: k for k, obj in held.items()}
    for key, values in closing.items():
        for c, v in values.items():
            setattr(meetings[key], c, v)
    session.flush()
    return changed + len(closing)


def _local_values(
    spec: TableSpec, row: Mapping[str, Any], ids: Mapping[str, Mapping[Any, int]], group_id: int
) -> tuple[dict[str, Any], PortableKey]:
    """A bundle row as this book's column values, and its portable key."""
    table = spec.model.__table__
    values: dict[str, Any] = {}
    for column in spec.columns:
        value = row[column]
        if value is not None and column in spec.refs:
            target = spec.refs[column]
            local = ids.get(target, {}).get(_hashable(value))
            if local is None:
                raise SyncRejected(
                    f"A {spec.table} record names a {target} record the bundle does not "
                    f"carry ({value}). Nothing was imported."
                )
            value = local
        elif value is not None and isinstance(table.c[column].type, DateTime):
            value = dt.datetime.fromisoformat(value)
        elif value is not None and isinstance(table.c[column].type, Date):
            value = dt.date.fromisoformat(value)
        values[column] = value
    if "group_id" in table.columns:
        values["group_id"] = group_id
    return values, _hashable(spec.key_of(row))


def _held_key(spec: TableSpec, obj: Any, names: Mapping[str, Mapping[int, Any]]) -> Any:
    row = {c: getattr(obj, c) for c in spec.key}
    for c in spec.key:
        if c in spec.refs:
            row[c] = names[spec.refs[c]].get(row[c])
        else:
            row[c] = plain(row[c])
    return _hashable(spec.key_of(row))


def _hashable(key: PortableKey) -> Any:
    return tuple(key) if isinstance(key, list) else key


def _frozen(spec: TableSpec, obj: Any) -> bool:
    """This book's copy may no longer change (the database would refuse it anyway)."""
    return obj is not None and spec.frozen_status is not None and obj.status == spec.frozen_status


def _replace_sheet(
    session: Session,
    spec: TableSpec,
    rows: Iterable[tuple[dict[str, Any], PortableKey]],
    open_meetings: set[int],
) -> int:
    """An open meeting's lines, items or repayments: replaced by the home's, whole."""
    table = spec.model.__table__
    removed = 0
    if open_meetings:
        removed = session.execute(
            delete(spec.model).where(table.c.meeting_id.in_(open_meetings))
        ).rowcount
    added = [values for values, _key in rows if values["meeting_id"] in open_meetings]
    if added:
        session.execute(table.insert(), added)
    return removed + len(added)


def insert_period_close(
    session: Session, group_id: int, row: Mapping[str, Any], accounts: Mapping[str, int]
) -> None:
    """Write a period close the home made, once this book's chain has reached the head it
    was made at (the database checks that head, as it did at home)."""
    close = PeriodClose(
        group_id=group_id,
        closed_through=dt.date.fromisoformat(row["closed_through"]),
        closed_at=dt.datetime.fromisoformat(row["closed_at"]),
        closed_by=str(row["closed_by"]),
        head_seq=int(row["head_seq"]),
        head_hash=str(row["head_hash"]),
    )
    session.add(close)
    session.flush()
    if row["balances"]:
        session.execute(
            insert(PeriodCloseBalance),
            [
                {"close_id": close.id, "account_id": accounts[a], "commodity": c, "balance": int(b)}
                for a, c, b in row["balances"]
            ],
        )


def copy_audit_events(
    session: Session, group_id: int, events: Iterable[Mapping[str, Any]], after: int, book: str
) -> tuple[int, int]:
    """Append the home's audit events numbered after ``after`` to this book's own trail
    (which keeps its own numbering and hash chain), each saying which book and number it
    came from. Returns how many were copied and the home's last number seen."""
    copied, last = 0, after
    for event in events:
        seq = int(event["seq"])
        if seq <= after:
            continue
        record_event(
            session,
            actor=str(event["actor"]),
            action=str(event["action"]),
            outcome=str(event["outcome"]),
            group_id=group_id,
            detail=f"{event['detail']} [book {book}, event #{seq}]",
            now=dt.datetime.fromisoformat(event["at"]),
        )
        copied, last = copied + 1, max(last, seq)
    return copied, last
