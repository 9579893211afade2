"""Meetings called off in advance, so that loan instalments skip them.

Khmer New Year, Pchum Ben, a flood forecast: the group agrees not to meet that day.
Recording it before loans are lent moves any instalment that would fall on it to the
next meeting (see ``ledger.meeting_calendar``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.errors import MeetingError
from ledger.groups import get_group
from ledger.models import Meeting, MeetingCancellation
from ledger.permissions import allow


def cancel_meeting_day(session: Session, group_id: int, day: dt.date, *, reason: str) -> None:
    """Record that the group will not meet on ``day``; the same request twice is one."""
    actor = allow(session, "record", group_id)
    get_group(session, group_id)
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise MeetingError("Say why the meeting is called off (up to 500 characters).")
    held = session.execute(
        select(Meeting.number).where(Meeting.group_id == group_id, Meeting.meeting_date == day)
    ).scalar()
    if held is not None:
        raise MeetingError(
            f"Meeting #{held} was held on {day.isoformat()}; it cannot be called off."
        )
    if day in cancelled_days(session, group_id):
        return
    allow(session, "record", group_id, audit=f"called off the meeting of {day}: {reason}")
    session.add(
        MeetingCancellation(
            group_id=group_id,
            meeting_date=day,
            reason=reason,
            recorded_by=actor.username,
            created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None),
        )
    )
    session.flush()


def cancelled_days(session: Session, group_id: int) -> set[dt.date]:
    allow(session, "read", group_id)
    return set(
        session.execute(
            select(MeetingCancellation.meeting_date).where(MeetingCancellation.group_id == group_id)
        ).scalars()
    )
