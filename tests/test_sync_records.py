"""Sync carries a group's records, not only its journal: after importing the village's
bundles, a coordinator at the central book sees the same meetings, collection sheets,
loans and schedules, arrears, rice bank, share-out and period closes as the village
treasurer, and an older bundle arriving late never rolls any of it back."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ledger.audit import audit_trail, verify_audit
from ledger.db import Book
from ledger.errors import NotHome
from ledger.groups import find_group
from ledger.meetings import (
    add_item,
    clear_line,
    close_meeting,
    meeting_summary,
    open_meeting,
    set_line,
)
from ledger.models import Account, Meeting, Member
from ledger.periods import period_closes
from ledger.portfolio import group_portfolio
from ledger.rice_position import rice_position
from ledger.shareout import post_shareout
from ledger.shareout_records import posted_shareouts
from ledger.sync import export_bundle, import_bundle
from ledger.sync_records import export_records
from ledger.verify import verify_book
from tests.conftest import DEMO_TODAY
from tests.savings_helpers import khr
from tests.test_sync import ACHM, _state, village  # noqa: F401  (the village book fixture)

BAKONG = "SR-BKNG-01"  # the rice bank
NEXT_MEETING = dt.date(2026, 11, 26)  # ACHM's next Thursday after the demo's last meeting


def _carry(village: Book, central: Book, code: str, path: Path):  # noqa: F811
    village.write(lambda s: export_bundle(s, find_group(s, code).id, path))
    return central.write(lambda s: import_bundle(s, path))


def _records(book: Book, code: str) -> dict[str, Any]:
    """Every record of the group, as the bundle writes them (ids left out, rows named by
    UUIDs and numbers), apart from the audit trail, which each book keeps its own."""
    with book.read() as s:
        group_id = find_group(s, code).id
        members = dict(s.execute(select(Member.id, Member.uuid).filter_by(group_id=group_id)).all())
        accounts = dict(
            s.execute(select(Account.id, Account.uuid).filter_by(group_id=group_id)).all()
        )
        records = export_records(s, group_id, members, accounts)
    records.pop("audit_events")
    return records


def _what_a_coordinator_sees(book: Book, code: str) -> tuple[Any, ...]:
    with book.read() as s:
        group_id = find_group(s, code).id
        meetings = s.query(Meeting.number, Meeting.status).filter_by(group_id=group_id).all()
        rice = rice_position(s, group_id, on=DEMO_TODAY)
        return (
            group_portfolio(s, group_id, as_of=DEMO_TODAY),
            (rice.stock, rice.capital, rice.interest_earned, rice.losses),
            [(r.number, r.member_code, r.standing) for r in rice.loans],
            sorted(meetings),
            [(p.closed_through, p.head_seq) for p in period_closes(s, group_id)],
        )


def test_the_central_book_holds_the_villages_meetings_loans_and_rice(village, book, tmp_path):  # noqa: F811
    central = book
    for code in (ACHM, BAKONG):
        taken = _carry(village, central, code, tmp_path / f"{code}.sansam")
        assert taken.records > 50 and taken.audit_events > 10
        assert _records(central, code) == _records(village, code)
        assert _what_a_coordinator_sees(central, code) == _what_a_coordinator_sees(village, code)
    with central.read() as s:
        achm = group_portfolio(s, find_group(s, ACHM).id, as_of=DEMO_TODAY)
        rice = rice_position(s, find_group(s, BAKONG).id, on=DEMO_TODAY)
        trail = audit_trail(s, group_id=find_group(s, ACHM).id, limit=500)
        assert verify_book(s).ok and verify_audit(s) is None
    assert achm.loans_active > 0 and achm.gross_outstanding > 0  # the loans came with it
    assert rice.stock > 0  # and the rice bank
    # The village's audit events are in the central trail, saying where they came from.
    assert any("opened the meeting of" in e.detail and "[book " in e.detail for e in trail)

    again = central.write(lambda s: import_bundle(s, tmp_path / f"{ACHM}.sansam"))
    assert (again.new_entries, again.records, again.audit_events) == (0, 0, 0)


def test_a_draft_meeting_follows_the_village_until_it_is_closed(village, book, tmp_path):  # noqa: F811
    central = book
    _carry(village, central, ACHM, tmp_path / "1.sansam")

    def draft(s):  # type: ignore[no-untyped-def]
        meeting = open_meeting(s, find_group(s, ACHM).id, NEXT_MEETING, today=NEXT_MEETING)
        set_line(s, meeting.id, "AC01", savings=khr(5_000))
        set_line(s, meeting.id, "AC02", savings=khr(7_000), social_fund=khr(500))
        return meeting.id

    meeting_id = village.write(draft)
    _carry(village, central, ACHM, tmp_path / "2.sansam")
    assert _records(central, ACHM) == _records(village, ACHM)

    # A copy is read-only: the coordinator cannot open or fill a meeting for the group.
    with pytest.raises(NotHome, match="kept by another book"):
        central.write(lambda s: open_meeting(s, find_group(s, ACHM).id, NEXT_MEETING))
    with central.read() as s:
        copy_id = s.query(Meeting.id).filter_by(uuid=_uuid(village, meeting_id)).scalar()
    with pytest.raises(NotHome):
        central.write(lambda s: set_line(s, copy_id, "AC03", savings=khr(1_000)))

    # The treasurer changes the draft: a line taken away, another added, a grant.
    def change(s):  # type: ignore[no-untyped-def]
        clear_line(s, meeting_id, "AC02")
        set_line(s, meeting_id, "AC03", savings=khr(2_000))
        add_item(s, meeting_id, "grant", khr(100_000), memo="From the commune")

    village.write(change)
    third = tmp_path / "3.sansam"
    _carry(village, central, ACHM, third)
    assert _records(central, ACHM) == _records(village, ACHM)
    with central.read() as s:
        sheet = meeting_summary(s, copy_id)
    assert [line.member_code for line in sheet.lines] == ["AC01", "AC03"]
    assert [item.kind for item in sheet.items] == ["grant"]

    def close(s):  # type: ignore[no-untyped-def]
        summary = meeting_summary(s, meeting_id)
        return close_meeting(s, meeting_id, khr(summary.expected_cash))

    village.write(close)
    taken = _carry(village, central, ACHM, tmp_path / "4.sansam")
    assert taken.new_entries > 0
    assert _records(central, ACHM) == _records(village, ACHM)
    assert _state(central) == _state(village)
    assert _what_a_coordinator_sees(central, ACHM) == _what_a_coordinator_sees(village, ACHM)

    # The draft's bundle turns up late: nothing goes back to the draft.
    late = central.write(lambda s: import_bundle(s, third))
    assert late.stale and late.records == 0
    assert _records(central, ACHM) == _records(village, ACHM)


def test_a_share_out_and_its_period_close_reach_the_central_book(village, book, tmp_path):  # noqa: F811
    central = book
    _carry(village, central, ACHM, tmp_path / "1.sansam")
    village.write(
        lambda s: post_shareout(
            s, find_group(s, ACHM).id, on=DEMO_TODAY, deduct_loans=True, today=DEMO_TODAY
        )
    )
    taken = _carry(village, central, ACHM, tmp_path / "2.sansam")
    assert taken.new_entries > 10
    assert _records(central, ACHM) == _records(village, ACHM)
    assert _state(central) == _state(village)
    with central.read() as s:
        group_id = find_group(s, ACHM).id
        closes = period_closes(s, group_id)
        shareouts = posted_shareouts(s, group_id)
        assert verify_book(s).ok
    assert [c.closed_through for c in closes] == [DEMO_TODAY]
    assert len(shareouts) == 1 and shareouts[0].distributed > 0


def _uuid(book: Book, meeting_id: int) -> str:
    with book.read() as s:
        return s.get(Meeting, meeting_id).uuid
