"""Instalments fall on meetings; a cancelled meeting moves them to the next one."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger.meeting_calendar import CalendarError, meeting_dates

MON, SUN = 0, 6


def test_weekly_on_mondays_after_a_disbursement():
    # Lent on Monday 5 January 2026 at the meeting: the first instalment is next Monday.
    assert meeting_dates(dt.date(2026, 1, 5), 3, frequency="weekly", meeting_day=MON) == [
        dt.date(2026, 1, 12),
        dt.date(2026, 1, 19),
        dt.date(2026, 1, 26),
    ]


def test_khmer_new_year_meeting_cancelled_moves_the_instalment():
    dates = meeting_dates(
        dt.date(2026, 4, 1),
        3,
        frequency="weekly",
        meeting_day=MON,
        cancelled={dt.date(2026, 4, 13)},  # Choul Chnam Thmey
    )
    assert dates == [dt.date(2026, 4, 6), dt.date(2026, 4, 20), dt.date(2026, 4, 27)]


def test_fortnightly_keeps_the_groups_fortnight():
    anchor = dt.date(2026, 1, 12)  # the group met that Monday
    dates = meeting_dates(
        dt.date(2026, 1, 14), 2, frequency="fortnightly", meeting_day=MON, anchor=anchor
    )
    assert dates == [dt.date(2026, 1, 26), dt.date(2026, 2, 9)]


def test_monthly_on_the_first_sunday():
    dates = meeting_dates(dt.date(2026, 1, 4), 3, frequency="monthly", meeting_day=SUN)
    assert dates == [dt.date(2026, 2, 1), dt.date(2026, 3, 1), dt.date(2026, 4, 5)]


def test_the_weekday_can_come_from_a_past_meeting():
    dates = meeting_dates(
        dt.date(2026, 1, 5), 1, frequency="weekly", meeting_day=None, anchor=dt.date(2026, 1, 1)
    )  # a Thursday
    assert dates == [dt.date(2026, 1, 8)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"frequency": "weekly", "meeting_day": None}, "meeting day first"),
        ({"frequency": "daily", "meeting_day": MON}, "not 'daily'"),
        ({"frequency": "weekly", "meeting_day": 9}, "0 \\(Monday\\) to 6"),
    ],
)
def test_impossible_rhythms(kwargs, message):
    with pytest.raises(CalendarError, match=message):
        meeting_dates(dt.date(2026, 1, 5), 2, **kwargs)
