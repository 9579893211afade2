"""When a group meets: the dates loan instalments fall due on.

Instalments are due at meetings, because that is where members pay. A group meets
weekly or fortnightly on its meeting day, or monthly on the first such weekday of the
month. A meeting cancelled in advance (Khmer New Year, Pchum Ben, a flood) is not a
meeting, so an instalment that would fall on it moves to the next meeting, and so do
the instalments after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from ledger.errors import LedgerError

STEP_DAYS = {"weekly": 7, "fortnightly": 14}
MAX_SEARCH = 2_000  # meetings: far beyond any loan term, a guard against endless loops


class CalendarError(LedgerError):
    """A meeting rhythm from which no dates can be worked out."""


def meeting_dates(
    after: dt.date,
    count: int,
    *,
    frequency: str,
    meeting_day: int | None,
    anchor: dt.date | None = None,
    cancelled: Collection[dt.date] = (),
) -> list[dt.date]:
    """The next ``count`` meetings strictly after ``after``, skipping cancelled ones.

    ``anchor`` is a date the group met on. It fixes which weeks a fortnightly group
    meets, and it is the fallback weekday when ``meeting_day`` is not recorded.
    """
    if count < 1:
        raise CalendarError("At least one meeting date is needed.")
    weekday = meeting_day if meeting_day is not None else (anchor.weekday() if anchor else None)
    if weekday is None:
        raise CalendarError("Record the group's meeting day first; instalments fall on meetings.")
    if not 0 <= weekday <= 6:
        raise CalendarError("The meeting day is 0 (Monday) to 6 (Sunday).")
    skipped = set(cancelled)
    dates: list[dt.date] = []
    for day in _candidates(after, frequency, weekday, anchor):
        if day not in skipped:
            dates.append(day)
            if len(dates) == count:
                return dates
    raise CalendarError("Too many cancelled meetings to place the instalments.")


def _candidates(after: dt.date, frequency: str, weekday: int, anchor: dt.date | None):  # type: ignore[no-untyped-def]
    if frequency in STEP_DAYS:
        step = STEP_DAYS[frequency]
        first = after + dt.timedelta(days=(weekday - after.weekday()) % 7 or 7)
        if frequency == "fortnightly" and anchor is not None:
            # Stay in the group's fortnight: the first date a whole number of fortnights
            # from a day the group met.
            while (first - anchor).days % 14:
                first += dt.timedelta(days=7)
        for k in range(MAX_SEARCH):
            yield first + dt.timedelta(days=step * k)
    elif frequency == "monthly":
        year, month = after.year, after.month
        for _ in range(MAX_SEARCH):
            day = _first_weekday(year, month, weekday)
            if day > after:
                yield day
            month += 1
            if month > 12:
                year, month = year + 1, 1
    else:
        raise CalendarError(f"Meetings are weekly, fortnightly or monthly, not {frequency!r}.")


def _first_weekday(year: int, month: int, weekday: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7)
