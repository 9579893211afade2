"""Reading the audit trail, as the roles that may: a group's trail for its chair and its
coordinators; the whole book's (sign-ins, users, groups created) for administrators."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ledger.audit import AuditRecord, audit_trail
from ledger.permissions import allow


def group_trail(session: Session, group_id: int, *, limit: int | None = None) -> list[AuditRecord]:
    """The group's events, oldest first (the newest ``limit``)."""
    allow(session, "audit", group_id)
    return audit_trail(session, group_id=group_id, limit=limit)


def book_trail(session: Session, *, limit: int | None = None) -> list[AuditRecord]:
    """Every event of the book: for administrators, who see sign-ins and user changes."""
    allow(session, "manage_users", None)
    return audit_trail(session, limit=limit)
