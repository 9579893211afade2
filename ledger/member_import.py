"""Importing a group's members from CSV (starting from the paper register).

Header: ``code,name_latin,joined_on`` and optionally ``name_khmer,sex,phone,household,
id_poor,id_poor_number,role``. All rows or none; a member already in the book with the
same details is left as is (re-importing the file changes nothing), with different
details the file is refused, naming the field. A file with a header and no member is
refused too: it is the wrong file or the wrong sheet. Khmer digits are read as digits in
the code, the phone number, ``id_poor`` and ``joined_on``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from ledger.csvfile import cell_code, cell_date
from ledger.errors import ImportRejected, LedgerError, UnknownMember
from ledger.members import MemberRecord, add_member, find_member
from ledger.money import latin_digits
from ledger.permissions import allow
from ledger.xlsxfile import read_table

REQUIRED = ("code", "name_latin", "joined_on")
OPTIONAL = ("name_khmer", "sex", "phone", "household", "id_poor", "id_poor_number", "role")
COMPARED = ("name_latin", "name_khmer", "sex", "phone", "household", "id_poor", "role")


@dataclass(frozen=True, slots=True)
class MemberImportSummary:
    rows: int
    added: int
    unchanged: int


def import_members(
    session: Session,
    group_id: int,
    path: str | Path,
    *,
    on_progress: Callable[[int], None] | None = None,
) -> MemberImportSummary:
    """``on_progress`` is told the number of rows handled, every 50 rows and at the end."""
    allow(session, "record", group_id)
    added = unchanged = rows = 0
    seen: dict[str, int] = {}
    for row, values in read_table(path, required=REQUIRED, optional=OPTIONAL, sheet="members"):
        rows += 1
        code = cell_code(row, values, "code")
        if code in seen:
            raise ImportRejected(row, f"Member {code} appears twice (first at row {seen[code]}).")
        seen[code] = row
        details = _details(row, values)
        try:
            existing = find_member(session, group_id, code)
        except UnknownMember:
            existing = None
        if existing is not None:
            _same_or_refuse(row, existing, details)
            unchanged += 1
            continue
        try:
            add_member(session, group_id, code, **details)
        except LedgerError as exc:
            raise ImportRejected(row, str(exc)) from None
        added += 1
        if on_progress and rows % 50 == 0:
            on_progress(rows)
    if not rows:
        raise ImportRejected(None, "The file has a header but no members under it.")
    if on_progress:
        on_progress(rows)
    return MemberImportSummary(rows, added, unchanged)


def _details(row: int, values: dict[str, str]) -> dict[str, object]:
    joined = cell_date(row, values, "joined_on")
    level = latin_digits(values.get("id_poor", "")) or "0"
    if level not in ("0", "1", "2"):
        raise ImportRejected(row, f"id_poor is {values['id_poor'][:20]!r}; write 0 (none), 1 or 2.")
    return {
        "name_latin": values["name_latin"],
        "name_khmer": values.get("name_khmer") or None,
        "sex": values.get("sex") or "X",
        "phone": latin_digits(values.get("phone", "")) or None,
        "household": values.get("household") or None,
        "id_poor": int(level),
        "id_poor_number": values.get("id_poor_number") or None,
        "role": (values.get("role") or "member").lower(),
        "joined_on": joined,
    }


def _same_or_refuse(row: int, existing: MemberRecord, details: dict[str, object]) -> None:
    sex = str(details["sex"]).upper()[:1] if details["sex"] else "X"
    wanted = {**details, "sex": "F" if sex == "W" else sex}
    for field in COMPARED:
        have = getattr(existing, field)
        if have != wanted[field]:
            raise ImportRejected(
                row,
                f"Member {existing.code} is already in the book with {field} {have!r}, not "
                f"{wanted[field]!r}; change members in the app, not by re-importing.",
            )
