"""Who may do what, in which group: checked in the services, not only on screens.

A signed-in user is an ``Actor``: their roles per group, loaded once at sign-in. Each
service that reads or writes a group's books calls ``require`` with the action it is
about to take; a user without the role gets a ``PermissionDenied`` that names what was
refused, and the refusal is kept in the audit trail (the work itself is rolled back).

Roles, as savings groups and their NGOs divide the work:

- **treasurer**: records for their groups (meetings, repayments, rice, imports);
- **chair**: approves loans, decides reschedules and write-offs, shares out and closes
  periods;
- **coordinator**: reads and audits many groups, sets each group's loan threshold and
  approves the loans above it, but never posts cash;
- **administrator** (a flag on the user, not a group role): manages users and creates
  groups, and sees no group's books unless also given a role in it.

The signed-in user travels with the unit of work: ``Book.as_user(actor)`` puts it on every
session the book opens, and each service calls ``allow(session, action, group_id)`` before
it reads or writes. A session with nobody signed in may do nothing with a group's books.
The author written into the books (``recorded_by``, ``approved_by``...) is always the
actor's user name, never a name the caller passes in: that is what makes maker ≠ checker
mean two different people, not two different strings.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ledger.audit import PENDING_KEY, record_event
from ledger.book_identity import require_home
from ledger.errors import LedgerError, RecordedRefusal
from ledger.models import Group

T = TypeVar("T", bound=tuple[Any, ...])
ROLES = ("treasurer", "chair", "coordinator")
ACTIONS: Mapping[str, frozenset[str]] = {
    "read": frozenset(ROLES),
    "read_personal": frozenset({"treasurer", "chair"}),
    "record": frozenset({"treasurer"}),
    "approve_loan": frozenset({"chair", "coordinator"}),
    "decide": frozenset({"chair"}),
    "audit": frozenset({"chair", "coordinator"}),
    "set_threshold": frozenset({"coordinator"}),
}
# Actions on the book as a whole rather than on one group's books.
ADMIN_ACTIONS = frozenset({"manage_users", "create_group"})
# Actions that change a group's books: a permitted one is written to the audit trail.
WRITE_ACTIONS = frozenset({"record", "approve_loan", "decide", "set_threshold"})
ACTOR_KEY = "sansam.actor"
CREATED_KEY = "sansam.created_groups"  # groups created in this unit of work
ACTION_WORDS = {
    "read": "read the books of",
    "read_personal": "see members' personal details in",
    "record": "record in the books of",
    "approve_loan": "approve loans in",
    "decide": "decide for",
    "audit": "read the audit trail of",
    "set_threshold": "set the loan approval threshold of",
    "manage_users": "manage users of",
    "create_group": "create groups in",
}


class NotSignedIn(LedgerError):
    """A service was called with nobody signed in."""


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
    """The signed-in user, with their roles per group (group id → roles).

    ``everywhere`` holds roles in every group of the book. No user stored in a book has
    it (``sign_in`` never sets it); it is for trusted programs acting for the book as a
    whole, such as the demo loader and the test suite.
    """

    user_id: int
    username: str
    display_name: str
    is_admin: bool
    roles: Mapping[int, frozenset[str]] = field(default_factory=dict)
    everywhere: frozenset[str] = frozenset()

    def roles_in(self, group_id: int) -> frozenset[str]:
        return self.roles.get(group_id, frozenset()) | self.everywhere

    def may(self, action: str, group_id: int | None) -> bool:
        if action in ADMIN_ACTIONS:
            return self.is_admin
        allowed = ACTIONS.get(action)
        if allowed is None:
            raise ValueError(f"unknown action {action!r}")
        return group_id is not None and bool(self.roles_in(group_id) & allowed)

    def readable_groups(self) -> frozenset[int] | None:
        """The groups this user may read, or None for every group."""
        if self.everywhere & ACTIONS["read"]:
            return None
        return frozenset(g for g, roles in self.roles.items() if roles & ACTIONS["read"])


def require(actor: Actor, action: str, group_id: int | None, *, group_code: str = "") -> None:
    """Refuse, and leave a trace, unless ``actor`` may take ``action`` in the group."""
    if actor.may(action, group_id):
        return
    where = f"group {group_code}" if group_code else "this group"
    if action in ADMIN_ACTIONS:
        where = "this book"
    raise PermissionDenied(
        f"{actor.display_name} ({actor.username}) may not {ACTION_WORDS[action]} {where}.",
        actor=actor.username,
        action=action,
        group_id=group_id,
    )


def current_actor(session: Session) -> Actor:
    """The user the unit of work runs for; refuses when nobody is signed in."""
    actor = session.info.get(ACTOR_KEY)
    if not isinstance(actor, Actor):
        raise NotSignedIn("Sign in first: nobody is signed in to this book.")
    return actor


def allow(session: Session, action: str, group_id: int | None, *, audit: str = "") -> Actor:
    """Check that the signed-in user may take ``action`` in the group, and return them.

    A refusal rolls the work back and is kept in the audit trail. A permitted change of
    the books with an ``audit`` text is queued for the trail too, and written by
    ``Book.write`` in the same transaction just before it commits (so the trail's lock
    is held for a moment, not for the whole unit of work).
    """
    actor = current_actor(session)
    if not actor.may(action, group_id):
        code = ""
        if group_id is not None:
            code = session.execute(select(Group.code).where(Group.id == group_id)).scalar() or ""
        require(actor, action, group_id, group_code=code)
    if action in WRITE_ACTIONS and group_id is not None:
        require_home(session, group_id)  # a copy from sync bundles is read-only here
    if audit:
        _queue_event(session, actor, action, group_id, audit)
    return actor


def _queue_event(
    session: Session, actor: Actor, action: str, group_id: int | None, detail: str
) -> None:
    """Queue an audit event; ``Book.write`` writes the queue just before it commits."""
    session.info.setdefault(PENDING_KEY, []).append(
        {"actor": actor.username, "action": action, "group_id": group_id, "detail": detail}
    )


def log_reading(session: Session, kind: str, group_id: int | None, detail: str) -> Actor:
    """Keep an export or a verification in the audit trail (``kind`` names it), after
    checking the user may read the group (``None``: the groups they may read)."""
    actor = current_actor(session)
    if group_id is not None:
        allow(session, "read", group_id)
    _queue_event(session, actor, kind, group_id, detail)
    return actor


def allow_posting(session: Session, group_id: int) -> Actor:
    """The one write path's own check: only someone who records or decides for the group
    posts to its books (a coordinator, who reads and approves, never does), and only in
    the group's home book."""
    actor = current_actor(session)
    if not actor.may("decide", group_id):
        actor = allow(session, "record", group_id)
    require_home(session, group_id)
    return actor


def take_role_in_new_group(session: Session, group_id: int, role: str) -> Actor:
    """For the rest of this unit of work, give the signed-in user ``role`` in a group
    they have just created in it (an administrator loading a group's history from a
    journal file records it). Nothing is stored: the next unit of work starts without."""
    actor = current_actor(session)
    if group_id not in session.info.get(CREATED_KEY, ()):
        raise PermissionDenied(
            "A role is taken only in a group created in the same piece of work.",
            actor=actor.username,
            action="take_role",
            group_id=group_id,
        )
    acting = replace(actor, roles={**actor.roles, group_id: actor.roles_in(group_id) | {role}})
    session.info[ACTOR_KEY] = acting
    return acting


def may_read_personal(session: Session, group_id: int) -> bool:
    """Whether the signed-in user may see members' phone and ID-Poor numbers."""
    return current_actor(session).may("read_personal", group_id)


def only_readable(session: Session, query: Select[T], group_column: Any) -> Select[T]:
    """``query`` limited to the groups the signed-in user may read: a user sees nothing
    of a group she has no role in."""
    readable = current_actor(session).readable_groups()
    return query if readable is None else query.where(group_column.in_(readable))


@contextmanager
def acting_as(session: Session, actor: Actor) -> Iterator[Actor]:
    """Let another signed-in user act within this unit of work: a chair who enters her
    PIN on the treasurer's screen to approve a loan countersigns it this way."""
    before = session.info.get(ACTOR_KEY)
    session.info[ACTOR_KEY] = actor
    try:
        yield actor
    finally:
        session.info[ACTOR_KEY] = before
