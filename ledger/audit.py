"""The audit trail: who did what, when, in which group, and how it ended.

Every sign-in, failed sign-in, denied action and write is one event in a hash chain of
its own (each event's hash covers the one before), so an event removed or edited with
raw SQL is caught by ``verify_audit`` even with the database's guards dropped. A
coordinator reads it with ``audit_trail``; a refusal is recorded even though the work it
refused is rolled back (see ``ledger.errors.RecordedRefusal``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ledger.hashing import digest, timestamp_text
from ledger.models import GENESIS_HASH, AuditEvent, Group

OUTCOMES = ("ok", "denied", "failed")
MAX_DETAIL = 1000
PENDING_KEY = "sansam.audit_pending"  # events queued by ``permissions.allow``
# PostgreSQL: one advisory lock serialises appends to the trail, so two writers in
# different groups never both take the next number (SQLite's write lock does the same).
_PG_TRAIL_LOCK = 0x5A6E_A0D1


@dataclass(frozen=True, slots=True)
class AuditRecord:
    seq: int
    at: dt.datetime
    actor: str
    action: str
    outcome: str
    group_code: str | None
    detail: str
    hash: str


def _event_hash(
    seq: int, at: dt.datetime, actor: str, action: str, outcome: str, group_id: int | None,
    detail: str, prev_hash: str,
) -> str:  # fmt: skip
    return digest(
        {
            "seq": seq,
            "at": timestamp_text(at),
            "actor": actor,
            "action": action,
            "outcome": outcome,
            "group": group_id,
            "detail": detail,
            "prev": prev_hash,
        }
    )


def record_event(
    session: Session,
    *,
    actor: str,
    action: str,
    outcome: str = "ok",
    group_id: int | None = None,
    detail: str = "",
    now: dt.datetime | None = None,
) -> int:
    """Append one event to the trail; returns its number."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    at = (now or dt.datetime.now(dt.UTC)).replace(tzinfo=None)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_TRAIL_LOCK})
    head = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev = (head.seq + 1, head.hash) if head else (1, GENESIS_HASH)
    detail = detail.strip()[:MAX_DETAIL]
    actor = actor[:100]
    session.add(
        AuditEvent(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            outcome=outcome,
            group_id=group_id,
            detail=detail,
            prev_hash=prev,
            hash=_event_hash(seq, at, actor, action, outcome, group_id, detail, prev),
        )
    )
    session.flush()
    return seq


def write_pending(session: Session) -> None:
    """Write the events queued during a unit of work (called just before it commits)."""
    pending = session.info.pop(PENDING_KEY, [])
    for event in pending:
        record_event(session, **event)


def audit_trail(
    session: Session, *, group_id: int | None = None, limit: int | None = None
) -> list[AuditRecord]:
    """The trail, oldest first; for a group, only its events (the newest ``limit``)."""
    query = select(AuditEvent, Group.code).outerjoin(Group, Group.id == AuditEvent.group_id)
    if group_id is not None:
        query = query.where(AuditEvent.group_id == group_id)
    query = query.order_by(AuditEvent.seq.desc())
    if limit:
        query = query.limit(limit)
    rows = session.execute(query).all()
    return [
        AuditRecord(e.seq, e.at, e.actor, e.action, e.outcome, code, e.detail, e.hash)
        for e, code in reversed(rows)
    ]


def verify_audit(session: Session) -> int | None:
    """The number of the first event that does not match its hash or its place in the
    chain, or None if the whole trail verifies."""
    prev, expected = GENESIS_HASH, 1
    for e in session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars():
        recomputed = _event_hash(
            e.seq, e.at, e.actor, e.action, e.outcome, e.group_id, e.detail, e.prev_hash
        )
        if e.seq != expected or e.prev_hash != prev or e.hash != recomputed:
            return e.seq
        prev, expected = e.hash, expected + 1
    return None
