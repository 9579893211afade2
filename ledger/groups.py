"""Groups: each is a book-within-the-book with its own accounts and hash chain."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.errors import InvalidEntry, UnknownGroup
from ledger.models import Group, new_uuid

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")


@dataclass(frozen=True, slots=True)
class GroupRecord:
    id: int
    uuid: str
    code: str
    name: str


def _record(group: Group) -> GroupRecord:
    return GroupRecord(group.id, group.uuid, group.code, group.name)


def check_code(code: str) -> str:
    code = code.strip()
    if not _CODE.match(code):
        raise InvalidEntry(
            f"{code!r} is not a usable group code: use 1 to 32 letters, digits, '.', '-' or "
            "'_', starting with a letter or digit (for example SR-PUOK-01)."
        )
    return code


def create_group(session: Session, code: str, name: str | None = None) -> GroupRecord:
    code = check_code(code)
    if session.execute(select(Group.id).where(Group.code == code)).first():
        raise InvalidEntry(f"There is already a group with code {code}.")
    group = Group(
        uuid=new_uuid(),
        code=code,
        name=(name or code).strip(),
        created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
    )
    session.add(group)
    session.flush()
    return _record(group)


def find_group(session: Session, code: str) -> GroupRecord:
    group = session.execute(select(Group).where(Group.code == code.strip())).scalar_one_or_none()
    if group is None:
        raise UnknownGroup(f"There is no group with code {code!r} in this book.")
    return _record(group)


def list_groups(session: Session) -> list[GroupRecord]:
    return [_record(g) for g in session.execute(select(Group).order_by(Group.code)).scalars()]
