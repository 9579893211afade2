"""Who may do what, in which group: checked in the services, not only on screens.

A signed-in user is an ``Actor``: their roles per group, loaded once at sign-in. Each
service that reads or writes a group's books calls ``require`` with the action it is
about to take; a user without the role gets a ``PermissionDenied`` that names what was
refused, and the refusal is kept in the audit trail (the work itself is rolled back).

Roles, as savings groups and their NGOs divide the work:

- **treasurer**: records for their groups (meetings, repayments, rice, imports);
- **chair**: approves loans, decides reschedules and write-offs, shares out and closes
  periods;
- **coordinator**: reads and audits many groups and approves loans above the group's
  threshold, but never posts cash;
- **administrator** (a flag on the user, not a group role): manages users, and sees no
  group's books unless also given a role in it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from ledger.audit import record_event
from ledger.errors import RecordedRefusal

ROLES = ("treasurer", "chair", "coordinator")
ACTIONS: Mapping[str, frozenset[str]] = {
    "read": frozenset(ROLES),
    "read_personal": frozenset({"treasurer", "chair"}),
    "record": frozenset({"treasurer"}),
    "approve_loan": frozenset({"chair", "coordinator"}),
    "decide": frozenset({"chair"}),
    "audit": frozenset({"chair", "coordinator"}),
}
ACTION_WORDS = {
    "read": "read the books of",
    "read_personal": "see members' personal details in",
    "record": "record in the books of",
    "approve_loan": "approve loans in",
    "decide": "decide for",
    "audit": "read the audit trail of",
    "manage_users": "manage users of",
}


class PermissionDenied(RecordedRefusal):
    """The signed-in user may not do this in this group."""

    def __init__(self, message: str, *, actor: str, action: str, group_id: int | None) -> None:
        super().__init__(message)
        self.actor, self.action, self.group_id = actor, action, group_id

    def record(self, session: Session) -> None:
        record_event(
            session,
            actor=self.actor,
            action=self.action,
            outcome="denied",
            group_id=self.group_id,
            detail=str(self),
        )


@dataclass(frozen=True, slots=True)
class Actor:
    """The signed-in user, with their roles per group (group id → roles)."""

    user_id: int
    username: str
    display_name: str
    is_admin: bool
    roles: Mapping[int, frozenset[str]] = field(default_factory=dict)

    def may(self, action: str, group_id: int | None) -> bool:
        if action == "manage_users":
            return self.is_admin
        allowed = ACTIONS.get(action)
        if allowed is None:
            raise ValueError(f"unknown action {action!r}")
        return group_id is not None and bool(self.roles.get(group_id, frozenset()) & allowed)


def require(actor: Actor, action: str, group_id: int | None, *, group_code: str = "") -> None:
    """Refuse, and leave a trace, unless ``actor`` may take ``action`` in the group."""
    if actor.may(action, group_id):
        return
    where = f"group {group_code}" if group_code else "this group"
    if action == "manage_users":
        where = "this book"
    raise PermissionDenied(
        f"{actor.display_name} ({actor.username}) may not {ACTION_WORDS[action]} {where}.",
        actor=actor.username,
        action=action,
        group_id=group_id,
    )
