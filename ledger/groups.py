"""Groups: each is a book-within-the-book with its own accounts and hash chain."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.chart import open_group_accounts
from ledger.errors import InvalidEntry, UnknownGroup
from ledger.locations import Location
from ledger.models import Group, new_uuid
from ledger.money import commodity, format_minor
from ledger.permissions import CREATED_KEY, allow, only_readable

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
KINDS = {
    "shg": "Self-Help Group",
    "vsla": "Village savings and loan association",
    "producer": "Producer group",
    "rice_bank": "Rice bank committee",
}
FREQUENCIES = ("weekly", "fortnightly", "monthly")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True, slots=True)
class GroupRecord:
    id: int
    uuid: str
    code: str
    name: str
    kind: str
    currency: str
    meeting_frequency: str
    meeting_day: int | None
    province_code: str | None
    district_code: str | None
    commune_code: str | None
    village_code: str | None
    coordinator_approval_above: int | None  # minor units; None: the chair approves all


def _record(g: Group) -> GroupRecord:
    return GroupRecord(
        g.id,
        g.uuid,
        g.code,
        g.name,
        g.kind,
        g.currency,
        g.meeting_frequency,
        g.meeting_day,
        g.province_code,
        g.district_code,
        g.commune_code,
        g.village_code,
        g.coordinator_approval_above,
    )


def check_code(code: str) -> str:
    code = code.strip()
    if not _CODE.match(code):
        raise InvalidEntry(
            f"{code!r} is not a usable group code: use 1 to 32 letters, digits, '.', '-' or "
            "'_', starting with a letter or digit (for example SR-PUOK-01)."
        )
    return code


def create_group(
    session: Session,
    code: str,
    name: str | None = None,
    *,
    kind: str = "vsla",
    currency: str = "KHR",
    meeting_frequency: str = "weekly",
    meeting_day: int | None = None,
    location: Location | None = None,
    chart: bool = True,
) -> GroupRecord:
    """Register a group. With ``chart`` (the default) it gets the standard accounts;
    the general-journal import makes bare groups whose accounts come from the file.
    Administrators create groups; they then give people roles in them."""
    code = check_code(code)
    allow(session, "create_group", None)
    if kind not in KINDS:
        raise InvalidEntry(f"Unknown kind of group {kind!r}; use one of {', '.join(KINDS)}.")
    if meeting_frequency not in FREQUENCIES:
        raise InvalidEntry(
            f"Meetings are {', '.join(FREQUENCIES)}; {meeting_frequency!r} is not one of them."
        )
    if meeting_day is not None and not 0 <= meeting_day <= 6:
        raise InvalidEntry("The meeting day is 0 (Monday) to 6 (Sunday).")
    currency = commodity(currency).code
    if currency == "RICE":
        raise InvalidEntry("A group keeps its money in KHR, USD or THB; rice is kept besides.")
    if session.execute(select(Group.id).where(Group.code == code)).first():
        raise InvalidEntry(f"There is already a group with code {code}.")
    label = (name or code).strip()
    if not label or len(label) > 200:
        raise InvalidEntry("A group's name is 1 to 200 characters.")
    group = Group(
        uuid=new_uuid(),
        code=code,
        name=label,
        created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
        kind=kind,
        currency=currency,
        meeting_frequency=meeting_frequency,
        meeting_day=meeting_day,
        province_code=location.province_code if location else None,
        district_code=location.district_code if location else None,
        commune_code=location.commune_code if location else None,
        village_code=location.village_code if location else None,
    )
    session.add(group)
    session.flush()
    if chart:
        open_group_accounts(session, group.id, currency)
    allow(session, "create_group", None, audit=f"created group {code} ({label})")
    session.info.setdefault(CREATED_KEY, set()).add(group.id)
    return _record(group)


def set_coordinator_threshold(session: Session, group_id: int, above: int | None) -> GroupRecord:
    """Set the loan amount (minor units of the group's currency) above which a
    coordinator of the group must approve a loan; ``None`` lets the chair approve all.

    The NGO's coordinator sets it, not the group's own officers: a chair who could raise
    it could approve any loan alone.
    """
    group = session.get(Group, group_id)
    if group is None:
        raise InvalidEntry(f"There is no group #{group_id}.")
    if above is not None and above < 0:
        raise InvalidEntry("The coordinator's threshold is an amount of zero or more.")
    was = group.coordinator_approval_above
    shown = "none" if above is None else format_minor(above, group.currency)
    before = "none" if was is None else format_minor(was, group.currency)
    allow(
        session,
        "set_threshold",
        group_id,
        audit=f"coordinator approval threshold of {group.code}: {before} → {shown}",
    )
    group.coordinator_approval_above = above
    session.flush()
    return _record(group)


def find_group(session: Session, code: str) -> GroupRecord:
    group = session.execute(select(Group).where(Group.code == code.strip())).scalar_one_or_none()
    if group is None:
        raise UnknownGroup(f"There is no group with code {code!r} in this book.")
    allow(session, "read", group.id)
    return _record(group)


def get_group(session: Session, group_id: int) -> GroupRecord:
    group = session.get(Group, group_id)
    if group is None:
        raise UnknownGroup(f"There is no group with id {group_id} in this book.")
    allow(session, "read", group.id)
    return _record(group)


def list_groups(session: Session) -> list[GroupRecord]:
    """The groups the signed-in user may read (a user sees nothing of other groups)."""
    query = select(Group).order_by(Group.code)
    query = only_readable(session, query, Group.id)
    return [_record(g) for g in session.execute(query).scalars()]


def groups_named(session: Session, codes: Iterable[str] | None) -> list[GroupRecord]:
    """The readable groups with these codes (all of them for ``None``), for reports over
    several groups; a code that is not among them is refused by name."""
    groups = list_groups(session)
    if codes is None:
        return groups
    wanted = set(codes)
    unknown = wanted - {g.code for g in groups}
    if unknown:
        raise UnknownGroup(f"There is no group {sorted(unknown)[0]!r} in this book.")
    return [g for g in groups if g.code in wanted]
