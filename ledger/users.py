"""Users of a shared PC: who they are, how they sign in, and what they are in each group.

Secrets are hashed with argon2id (``argon2-cffi``); the book never holds a password or a
PIN. A treasurer who finds passwords hard may use a PIN of at least 6 digits, but not
one anyone would guess first (all one digit, or a run like 123456).

Sign-in protection: every failure is counted and kept in the audit trail. From the 5th
failure in a row the account is locked, for 1 minute, then 2, 4, 8... (at most a day),
so guessing a 6-digit PIN at the shared PC would take years. A correct sign-in resets
the count. There are no default users and no default passwords.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from itertools import pairwise

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.audit import record_event
from ledger.errors import LedgerError, RecordedRefusal
from ledger.models import Group, User, UserRole
from ledger.permissions import ROLES, Actor, require

MIN_PASSWORD = 10
MIN_PIN = 6
FREE_FAILURES = 4  # the 5th failure in a row locks the account
MAX_LOCK = dt.timedelta(days=1)
_USERNAME = re.compile(r"[a-z][a-z0-9._-]{1,63}")
_hasher = PasswordHasher()


class UserError(LedgerError):
    """A user that cannot be created or changed as asked."""


def _utc(now: dt.datetime | None) -> dt.datetime:
    return (now or dt.datetime.now(dt.UTC)).replace(tzinfo=None)


def check_secret(secret: str, kind: str) -> None:
    """Refuse secrets that are easy to guess, with a reason the user can act on."""
    if kind == "pin":
        if not secret.isdigit() or not secret.isascii():
            raise UserError("A PIN is digits only (0 to 9).")
        if len(secret) < MIN_PIN:
            raise UserError(f"A PIN has at least {MIN_PIN} digits.")
        steps = {int(b) - int(a) for a, b in pairwise(secret)}
        if steps <= {0} or steps == {1} or steps == {-1}:
            raise UserError("That PIN is too easy to guess (one digit, or a run like 123456).")
    elif kind == "password":
        if len(secret) < MIN_PASSWORD:
            raise UserError(f"A password has at least {MIN_PASSWORD} characters.")
        if len(set(secret)) < 4:
            raise UserError("That password is too easy to guess.")
    else:
        raise UserError("A user signs in with a password or a PIN.")


def create_user(
    session: Session,
    username: str,
    display_name: str,
    secret: str,
    *,
    kind: str = "password",
    is_admin: bool = False,
    created_by: Actor | None,
    now: dt.datetime | None = None,
) -> Actor:
    """Add a user. Only an administrator may, except for the very first user of a book,
    who must be an administrator (made by ``sansam init``)."""
    first = session.execute(select(User.id).limit(1)).first() is None
    if first:
        if not is_admin:
            raise UserError("The first user of a book is its administrator.")
    elif created_by is None:
        raise UserError("Sign in as an administrator to add users.")
    else:
        require(created_by, "manage_users", None)
    name = username.strip().lower()
    if not _USERNAME.fullmatch(name):
        raise UserError(
            "A user name is 2 to 64 lower-case letters, digits, dots, dashes or underscores, "
            "starting with a letter (e.g. sopheap or chan.sophea)."
        )
    if not display_name.strip():
        raise UserError("Give the user's name as people know it.")
    check_secret(secret, kind)
    if session.execute(select(User.id).where(User.username == name)).first() is not None:
        raise UserError(f"There is already a user {name!r}.")
    by = created_by.username if created_by else name
    user = User(
        username=name,
        display_name=display_name.strip()[:200],
        secret_kind=kind,
        secret_hash=_hasher.hash(secret),
        is_admin=is_admin,
        failed_attempts=0,
        disabled=False,
        created_by=by,
        created_at=_utc(now),
    )
    session.add(user)
    session.flush()
    record_event(
        session,
        actor=by,
        action="user_create",
        detail=f"{name} ({'administrator' if is_admin else kind})",
        now=now,
    )
    return actor_of(session, user)


def grant_role(
    session: Session,
    by: Actor,
    username: str,
    group_code: str,
    role: str,
    *,
    now: dt.datetime | None = None,
) -> Actor:
    """Give a user a role in a group (administrators only)."""
    require(by, "manage_users", None)
    if role not in ROLES:
        raise UserError(f"A role is one of {', '.join(ROLES)}; got {role!r}.")
    user = _user(session, username)
    group = session.execute(select(Group).where(Group.code == group_code.strip())).scalar()
    if group is None:
        raise UserError(f"There is no group {group_code.strip()!r}.")
    exists = session.get(UserRole, (user.id, group.id, role))
    if exists is None:
        session.add(
            UserRole(
                user_id=user.id,
                group_id=group.id,
                role=role,
                granted_by=by.username,
                granted_at=_utc(now),
            )
        )
        session.flush()
        record_event(
            session,
            actor=by.username,
            action="role_grant",
            group_id=group.id,
            detail=f"{user.username} is {role}",
            now=now,
        )
    return actor_of(session, user)


def _user(session: Session, username: str) -> User:
    user = session.execute(
        select(User).where(User.username == username.strip().lower())
    ).scalar_one_or_none()
    if user is None:
        raise UserError(f"There is no user {username.strip()!r}.")
    return user


def actor_of(session: Session, user: User) -> Actor:
    roles: dict[int, set[str]] = {}
    for group_id, role in session.execute(
        select(UserRole.group_id, UserRole.role).where(UserRole.user_id == user.id)
    ):
        roles.setdefault(group_id, set()).add(role)
    return Actor(
        user.id,
        user.username,
        user.display_name,
        user.is_admin,
        {g: frozenset(r) for g, r in roles.items()},
    )


class SignInRefused(RecordedRefusal):
    """A failed sign-in: counted against the account, locking it from the 5th in a row."""

    def __init__(self, message: str, *, username: str, count: bool, now: dt.datetime) -> None:
        super().__init__(message)
        self.username, self.count, self.now = username, count, now

    def record(self, session: Session) -> None:
        user = session.execute(
            select(User).where(User.username == self.username).with_for_update()
        ).scalar_one_or_none()
        if user is not None and self.count:
            user.failed_attempts += 1
            if user.failed_attempts > FREE_FAILURES:
                lock = dt.timedelta(minutes=2 ** (user.failed_attempts - FREE_FAILURES - 1))
                user.locked_until = self.now + min(lock, MAX_LOCK)
        record_event(
            session,
            actor=self.username[:100],
            action="sign_in",
            outcome="failed",
            detail=str(self),
            now=self.now,
        )


@dataclass(frozen=True, slots=True)
class Lock:
    failed_attempts: int
    locked_until: dt.datetime | None


def sign_in(
    session: Session, username: str, secret: str, *, now: dt.datetime | None = None
) -> Actor:
    """The user, if the secret is right and the account is not locked or disabled.

    The message of a refusal never says whether the user name exists.
    """
    at = _utc(now)
    name = username.strip().lower()
    wrong = "The user name or the password/PIN is wrong."
    user = session.execute(select(User).where(User.username == name)).scalar_one_or_none()
    if user is None:
        raise SignInRefused(wrong, username=name or "(empty)", count=False, now=at)
    if user.locked_until is not None and at < user.locked_until:
        minutes = max(1, round((user.locked_until - at).total_seconds() / 60))
        raise SignInRefused(
            f"Too many wrong attempts: this account is locked for {minutes} more minute(s).",
            username=name,
            count=False,
            now=at,
        )
    if user.disabled:
        raise SignInRefused("This account is disabled.", username=name, count=False, now=at)
    try:
        _hasher.verify(user.secret_hash, secret)
    except (VerificationError, InvalidHashError):
        raise SignInRefused(wrong, username=name, count=True, now=at) from None
    user.failed_attempts = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.secret_hash):
        user.secret_hash = _hasher.hash(secret)
    session.flush()
    record_event(session, actor=name, action="sign_in", now=at)
    return actor_of(session, user)


def has_users(session: Session) -> bool:
    """Whether the book has any user yet (a new book has none until ``sansam init``)."""
    return session.execute(select(User.id).limit(1)).first() is not None


def has_groups(session: Session) -> bool:
    """Whether the book holds any group (checked before a demo is loaded into it)."""
    return session.execute(select(Group.id).limit(1)).first() is not None


def lock_state(session: Session, username: str) -> Lock:
    user = _user(session, username)
    return Lock(user.failed_attempts, user.locked_until)


@dataclass(frozen=True, slots=True)
class UserRecord:
    username: str
    display_name: str
    secret_kind: str
    is_admin: bool
    disabled: bool
    locked_until: dt.datetime | None
    roles: tuple[tuple[str, str], ...]  # (group code, role), sorted


def list_users(session: Session, by: Actor) -> list[UserRecord]:
    """Every user with their roles per group (administrators only)."""
    require(by, "manage_users", None)
    roles: dict[int, list[tuple[str, str]]] = {}
    for user_id, code, role in session.execute(
        select(UserRole.user_id, Group.code, UserRole.role).join(
            Group, Group.id == UserRole.group_id
        )
    ):
        roles.setdefault(user_id, []).append((code, role))
    return [
        UserRecord(
            u.username,
            u.display_name,
            u.secret_kind,
            u.is_admin,
            u.disabled,
            u.locked_until,
            tuple(sorted(roles.get(u.id, []))),
        )
        for u in session.execute(select(User).order_by(User.username)).scalars()
    ]
