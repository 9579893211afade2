"""Members of a group: who they are, when they joined and left, and their accounts."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.chart import open_member_accounts
from ledger.errors import MemberError, UnknownMember
from ledger.models import Group, Member, new_uuid
from ledger.money import latin_digits
from ledger.permissions import allow, may_read_personal
from ledger.plain_text import has_control

SEXES = {"F": "F", "M": "M", "X": "X", "FEMALE": "F", "MALE": "M", "W": "F"}
ROLES = ("member", "treasurer", "chair", "secretary")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
_PHONE = re.compile(r"^\+?[0-9 ]{6,20}$")
_KHMER = re.compile("[\u1780-\u17ff]")


@dataclass(frozen=True, slots=True)
class MemberRecord:
    id: int
    group_id: int
    uuid: str
    code: str
    name_latin: str
    name_khmer: str | None
    sex: str
    phone: str | None
    household: str | None
    id_poor: int
    id_poor_number: str | None
    role: str
    joined_on: dt.date | None
    exited_on: dt.date | None
    # True when the reader's role may not see phone and ID-Poor numbers (they are None).
    personal_hidden: bool = False

    def active_on(self, day: dt.date) -> bool:
        """Whether the member belongs to the group that day; a member who leaves at a
        meeting still counts at that meeting (they were there, and were paid out)."""
        joined = self.joined_on is None or self.joined_on <= day
        return joined and (self.exited_on is None or day <= self.exited_on)


def _record(m: Member, *, personal: bool = True) -> MemberRecord:
    """The member as the reader may see them: phone and ID-Poor number only for the
    roles that work with members in person (treasurer, chair)."""
    if not personal:
        return MemberRecord(
            m.id, m.group_id, m.uuid, m.code, m.name_latin, m.name_khmer, m.sex, None,
            m.household, m.id_poor, None, m.role, m.joined_on, m.exited_on, True,
        )  # fmt: skip
    return MemberRecord(
        m.id,
        m.group_id,
        m.uuid,
        m.code,
        m.name_latin,
        m.name_khmer,
        m.sex,
        m.phone,
        m.household,
        m.id_poor,
        m.id_poor_number,
        m.role,
        m.joined_on,
        m.exited_on,
    )


def _text(value: str | None, label: str, limit: int, *, required: bool = False) -> str | None:
    value = (value or "").strip()
    if not value:
        if required:
            raise MemberError(f"The {label} is empty.")
        return None
    if len(value) > limit:
        raise MemberError(f"The {label} is longer than {limit} characters.")
    if has_control(value):
        raise MemberError(f"The {label} contains control characters.")
    return value


def add_member(
    session: Session,
    group_id: int,
    code: str,
    *,
    name_latin: str,
    name_khmer: str | None = None,
    sex: str = "X",
    phone: str | None = None,
    household: str | None = None,
    id_poor: int = 0,
    id_poor_number: str | None = None,
    role: str = "member",
    joined_on: dt.date,
) -> MemberRecord:
    """Add a member (joining mid-cycle is fine) and open their savings and share accounts."""
    allow(session, "record", group_id)
    code = latin_digits(code).strip()  # M០៧ typed in Khmer digits is M07
    if not _CODE.match(code):
        raise MemberError(
            f"{code!r} is not a usable member code: 1 to 32 letters, digits, '.', '-' or '_'."
        )
    latin = _text(name_latin, "Latin-script name", 200, required=True)
    assert latin is not None
    if _KHMER.search(latin):
        raise MemberError(
            "The Latin-script name contains Khmer letters; put the Khmer name in its own field."
        )
    khmer = _text(name_khmer, "Khmer name", 200)
    if khmer is not None and not _KHMER.search(khmer):
        raise MemberError("The Khmer name has no Khmer letters; write it in Khmer script.")
    sex_code = SEXES.get((sex or "X").strip().upper())
    if sex_code is None:
        raise MemberError(f"Sex {sex!r} is not F, M or X (not said).")
    phone_text = _text(phone, "phone number", 32)
    if phone_text is not None and not _PHONE.match(phone_text):
        raise MemberError(f"{phone_text!r} is not a phone number (digits, spaces, leading +).")
    if id_poor not in (0, 1, 2):
        raise MemberError("ID-Poor status is 0 (none), 1 or 2.")
    if role not in ROLES:
        raise MemberError(f"Role {role!r} is not one of {', '.join(ROLES)}.")
    if not isinstance(joined_on, dt.date):
        raise MemberError("The join date is missing.")
    if session.execute(
        select(Member.id).where(Member.group_id == group_id, Member.code == code)
    ).first():
        raise MemberError(f"The group already has a member with code {code}.")
    currency = session.execute(select(Group.currency).where(Group.id == group_id)).scalar_one()
    member = Member(
        group_id=group_id,
        uuid=new_uuid(),
        code=code,
        name_latin=latin,
        name_khmer=khmer,
        sex=sex_code,
        phone=phone_text,
        household=_text(household, "household", 100),
        id_poor=id_poor,
        id_poor_number=_text(id_poor_number, "ID-Poor number", 32),
        role=role,
        joined_on=joined_on,
    )
    session.add(member)
    session.flush()
    open_member_accounts(session, group_id, currency, member.id, code)
    allow(
        session,
        "record",
        group_id,
        audit=f"added member {code} ({latin}), joined {joined_on.isoformat()}",
    )
    return _record(member)


def find_member(session: Session, group_id: int, code: str) -> MemberRecord:
    member = session.execute(
        select(Member).where(Member.group_id == group_id, Member.code == latin_digits(code).strip())
    ).scalar_one_or_none()
    if member is None:
        raise UnknownMember(f"The group has no member with code {code.strip()!r}.")
    allow(session, "read", group_id)
    return _record(member, personal=may_read_personal(session, group_id))


def get_member(session: Session, member_id: int) -> MemberRecord:
    member = session.get(Member, member_id)
    if member is None:
        raise UnknownMember(f"There is no member #{member_id}.")
    allow(session, "read", member.group_id)
    return _record(member, personal=may_read_personal(session, member.group_id))


def list_members(
    session: Session, group_id: int, *, on: dt.date | None = None
) -> list[MemberRecord]:
    """Members in code order; with ``on``, only those who belong to the group that day."""
    allow(session, "read", group_id)
    personal = may_read_personal(session, group_id)
    members = [
        _record(m, personal=personal)
        for m in session.execute(
            select(Member).where(Member.group_id == group_id).order_by(Member.code)
        ).scalars()
    ]
    return [m for m in members if on is None or m.active_on(on)]


def mark_exited(session: Session, member_id: int, on: dt.date) -> None:
    member = session.get(Member, member_id)
    assert member is not None
    allow(session, "record", member.group_id)
    member.exited_on = on
    session.flush()
