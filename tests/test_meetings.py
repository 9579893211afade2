"""Meetings by worked example: the collection sheet, the cash box, closing, correcting."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from ledger.chart import GroupAccounts, balance_of
from ledger.errors import MeetingError, SheetError
from ledger.meetings import (
    add_item,
    close_meeting,
    meeting_summary,
    open_meeting,
    set_line,
)
from ledger.members import add_member
from ledger.verify import verify_book
from tests.savings_helpers import CYCLE_START, TODAY, khr, make_vsla

WEEK = dt.timedelta(days=7)


def balances(book, group_id):
    with book.read() as s:
        accounts = GroupAccounts(s, group_id)

        def natural(role, member_id=None):
            account = accounts.get(role, member_id)
            value = balance_of(s, account.id)
            return value if account.type in ("asset", "expense") else -value

        return natural


def open_(book, group_id, day):
    return book.write(lambda s: open_meeting(s, group_id, day, today=TODAY))


def test_a_first_meeting_of_three_members(book):
    v = make_vsla(book)
    m = open_(book, v.group.id, CYCLE_START)
    assert m.number == 1 and m.opening_cash == 0

    def sheet(s):
        set_line(s, m.id, "M01", savings=khr(2000), share_money=khr(10000), social_fund=khr(500))
        set_line(
            s,
            m.id,
            "M02",
            savings=khr(2000),
            share_money=khr(5000),
            social_fund=khr(500),
            voluntary_savings=khr(3000),
        )
        set_line(s, m.id, "M03", attended=False, fine_absent=khr(1000))
        add_item(s, m.id, "expense", khr(1500), memo="Notebook and pens")
        return meeting_summary(s, m.id)

    summary = book.write(sheet)
    assert summary.cash_in == 2000 + 10000 + 500 + 2000 + 5000 + 500 + 3000 + 1000
    assert summary.cash_out == 1500
    assert summary.expected_cash == 22500
    assert (summary.attended, summary.members) == (2, 3)
    closed = book.write(lambda s: close_meeting(s, m.id, khr(22500)))
    assert closed.meeting.status == "closed" and closed.difference == 0

    b = balances(book, v.group.id)
    assert b("cash_box") == 22500
    assert b("shares", v.members["M01"].id) == 10000  # two shares at 5,000
    assert b("voluntary_savings", v.members["M02"].id) == 3000
    assert b("social_fund") == 1000
    assert b("fines_absent") == 1000
    assert b("expenses") == 1500
    with book.read() as s:
        assert verify_book(s).ok


def test_money_short_of_a_whole_share_is_held_for_the_member(book):
    v = make_vsla(book)
    dara = v.members["M01"].id
    m1 = open_(book, v.group.id, CYCLE_START)
    book.write(lambda s: set_line(s, m1.id, "M01", share_money=khr(12000)))
    book.write(lambda s: close_meeting(s, m1.id, khr(12000)))
    b = balances(book, v.group.id)
    assert (b("shares", dara), b("share_money_held", dara)) == (10000, 2000)

    m2 = open_(book, v.group.id, CYCLE_START + WEEK)
    book.write(lambda s: set_line(s, m2.id, "M01", share_money=khr(3000)))
    book.write(lambda s: close_meeting(s, m2.id, khr(15000)))
    b = balances(book, v.group.id)
    assert (b("shares", dara), b("share_money_held", dara)) == (15000, 0)


def test_at_most_five_shares_a_meeting(book):
    v = make_vsla(book)
    m = open_(book, v.group.id, CYCLE_START)
    with pytest.raises(SheetError, match="would buy 6 shares; at most 5 a meeting"):
        book.write(lambda s: set_line(s, m.id, "M01", share_money=khr(30000)))


def test_a_cash_count_that_is_short_needs_a_comment_and_is_posted(book):
    v = make_vsla(book)
    m = open_(book, v.group.id, CYCLE_START)
    book.write(lambda s: set_line(s, m.id, "M01", savings=khr(2000), voluntary_savings=khr(8000)))
    with pytest.raises(MeetingError, match=r"500 KHR less than expected.*write a comment"):
        book.write(lambda s: close_meeting(s, m.id, khr(9500)))
    with pytest.raises(MeetingError, match="control characters"):  # pasted from a terminal
        book.write(lambda s: close_meeting(s, m.id, khr(9500), comment="Torn\x1b[2J note"))
    closed = book.write(lambda s: close_meeting(s, m.id, khr(9500), comment="Torn 500 riel note"))
    assert closed.difference == -500
    b = balances(book, v.group.id)
    assert b("cash_box") == 9500
    assert b("cash_over_short") == 500
    # The next meeting opens with the last closing.
    assert open_(book, v.group.id, CYCLE_START + WEEK).opening_cash == 9500


def test_closing_twice_returns_the_first_close_and_a_closed_meeting_is_frozen(book):
    v = make_vsla(book)
    m = open_(book, v.group.id, CYCLE_START)
    book.write(lambda s: set_line(s, m.id, "M01", savings=khr(2000)))
    first = book.write(lambda s: close_meeting(s, m.id, khr(2000)))
    again = book.write(lambda s: close_meeting(s, m.id, khr(2000)))
    assert again.meeting == first.meeting
    assert balances(book, v.group.id)("cash_box") == 2000
    with pytest.raises(MeetingError, match="already closed with 2,000 KHR"):
        book.write(lambda s: close_meeting(s, m.id, khr(3000)))
    with pytest.raises(MeetingError, match="is closed; correct it by a reversal"):
        book.write(lambda s: set_line(s, m.id, "M01", savings=khr(9000)))
    # Around the code, the database holds the line too.
    for sql in ("UPDATE meeting_lines SET savings = 9000", "UPDATE meetings SET counted_cash = 1"):
        with (
            pytest.raises(DBAPIError, match="closed meeting cannot be changed"),
            book.engine.begin() as conn,
        ):
            conn.execute(text(sql))


def test_a_mistake_is_reversed_at_the_next_meeting(book):
    v = make_vsla(book)
    sophea = v.members["M02"].id
    m1 = open_(book, v.group.id, CYCLE_START)
    book.write(lambda s: set_line(s, m1.id, "M02", savings=khr(20000)))  # meant 2,000
    book.write(lambda s: close_meeting(s, m1.id, khr(20000)))
    m2 = open_(book, v.group.id, CYCLE_START + WEEK)
    assert m2.opening_cash == 20000

    def correct(s):
        item = add_item(s, m2.id, "reversal", entry_seq=1)
        set_line(s, m2.id, "M02", savings=khr(2000))
        return item, meeting_summary(s, m2.id)

    item, summary = book.write(correct)
    # The 20,000 goes back to the member; the right 2,000 comes in.
    assert item.cash_delta == -20000 and item.memo.startswith("Reverses #1: Meeting #1")
    assert summary.expected_cash == 2000
    with pytest.raises(MeetingError, match="already been reversed on this sheet"):
        book.write(lambda s: add_item(s, m2.id, "reversal", entry_seq=1))
    book.write(lambda s: close_meeting(s, m2.id, khr(2000)))
    b = balances(book, v.group.id)
    assert b("compulsory_savings", sophea) == 2000
    assert b("cash_box") == 2000
    with book.read() as s:
        assert verify_book(s).ok


def test_withdrawals_cannot_exceed_voluntary_savings(book):
    v = make_vsla(book)
    m1 = open_(book, v.group.id, CYCLE_START)
    book.write(lambda s: set_line(s, m1.id, "M01", voluntary_savings=khr(5000)))
    book.write(lambda s: close_meeting(s, m1.id, khr(5000)))
    m2 = open_(book, v.group.id, CYCLE_START + WEEK)
    with pytest.raises(SheetError, match="has 5,000 KHR of voluntary savings; 6,000 KHR cannot"):
        book.write(lambda s: set_line(s, m2.id, "M01", withdrawal=khr(6000)))
    book.write(lambda s: set_line(s, m2.id, "M01", withdrawal=khr(5000)))
    book.write(lambda s: close_meeting(s, m2.id, khr(0)))
    assert balances(book, v.group.id)("voluntary_savings", v.members["M01"].id) == 0


def test_a_member_joins_mid_cycle_and_another_leaves(book):
    v = make_vsla(book)
    m1 = open_(book, v.group.id, CYCLE_START)
    book.write(lambda s: set_line(s, m1.id, "M03", savings=khr(2000), share_money=khr(7000)))
    book.write(lambda s: close_meeting(s, m1.id, khr(9000)))

    joiner = book.write(
        lambda s: add_member(
            s, v.group.id, "M០៤", name_latin="Lim Srey", sex="F", joined_on=CYCLE_START + WEEK
        )
    )
    assert joiner.code == "M04"  # typed in Khmer digits, kept as the register writes it
    m2 = open_(book, v.group.id, CYCLE_START + WEEK)

    def sheet(s):
        with pytest.raises(SheetError, match="not a member on"):
            # M04 joins this week, but nobody can pay before they join.
            set_line(s, m1.id, "M04", savings=khr(1))
        set_line(s, m2.id, "M04", savings=khr(2000))
        set_line(s, m2.id, "M03", savings=khr(2000))
        add_item(s, m2.id, "member_exit", member_code="M03")
        return meeting_summary(s, m2.id)

    with pytest.raises(MeetingError):
        book.write(sheet)  # the first meeting is closed: the whole unit is rolled back

    def sheet2(s):
        set_line(s, m2.id, "M04", savings=khr(2000))
        set_line(s, m2.id, "M03", savings=khr(2000))
        add_item(s, m2.id, "member_exit", member_code="M03")
        return meeting_summary(s, m2.id)

    summary = book.write(sheet2)
    # M03 gets back both weeks' savings, the share (5,000) and the 2,000 held.
    exit_item = next(i for i in summary.items if i.kind == "member_exit")
    assert exit_item.amount == 2000 + 2000 + 5000 + 2000
    assert summary.expected_cash == 9000 + 4000 - 11000
    closed = book.write(lambda s: close_meeting(s, m2.id, khr(2000)))
    assert closed.members == 4  # the leaver still counts at the meeting they leave
    b = balances(book, v.group.id)
    gone = v.members["M03"].id
    for role in ("compulsory_savings", "voluntary_savings", "shares", "share_money_held"):
        assert b(role, gone) == 0
    assert b("compulsory_savings", joiner.id) == 2000
    m3 = open_(book, v.group.id, CYCLE_START + 2 * WEEK)
    with pytest.raises(SheetError, match="not a member on"):
        book.write(lambda s: set_line(s, m3.id, "M03", savings=khr(2000)))


def test_meeting_dates_must_move_forward_and_not_into_the_future(book):
    v = make_vsla(book)
    open_(book, v.group.id, CYCLE_START + WEEK)
    with pytest.raises(MeetingError, match="still open"):
        open_(book, v.group.id, CYCLE_START + 2 * WEEK)
    other = make_vsla(book, "PK-02")
    with pytest.raises(MeetingError, match="future"):
        book.write(lambda s: open_meeting(s, other.group.id, TODAY + WEEK, today=TODAY))
    with pytest.raises(MeetingError, match="cycle started on 2026-01-05"):
        open_(book, other.group.id, CYCLE_START - WEEK)


def test_social_fund_payout_and_bank_movements(book):
    v = make_vsla(book)
    m = open_(book, v.group.id, CYCLE_START)

    def sheet(s):
        for code in ("M01", "M02", "M03"):
            set_line(s, m.id, code, savings=khr(20000), social_fund=khr(1000))
        add_item(s, m.id, "social_fund_payout", khr(2500), member_code="M02", memo="Hospital")
        add_item(s, m.id, "bank_deposit", khr(50000))
        add_item(s, m.id, "grant", khr(100000), memo="Project matching grant")
        return meeting_summary(s, m.id)

    summary = book.write(sheet)
    assert summary.expected_cash == 63000 - 2500 - 50000 + 100000
    book.write(lambda s: close_meeting(s, m.id, khr(summary.expected_cash)))
    b = balances(book, v.group.id)
    assert (b("social_fund"), b("bank"), b("grants")) == (500, 50000, 100000)


def test_an_overdrawn_sheet_is_refused_before_anything_is_posted(book):
    v = make_vsla(book)
    m = open_(book, v.group.id, CYCLE_START)
    book.write(lambda s: add_item(s, m.id, "expense", khr(1000)))
    with pytest.raises(MeetingError, match="pays out more than the cash box holds"):
        book.write(lambda s: close_meeting(s, m.id, khr(0)))
    with book.read() as s:
        assert verify_book(s).entries == 0


def test_member_and_group_positions_and_the_cash_book(book):
    from ledger.positions import group_position, member_position
    from ledger.statements import cash_book

    v = make_vsla(book)
    m1 = open_(book, v.group.id, CYCLE_START)

    def sheet(s):
        set_line(
            s,
            m1.id,
            "M01",
            savings=khr(2000),
            share_money=khr(12000),
            social_fund=khr(500),
            voluntary_savings=khr(1000),
        )
        set_line(s, m1.id, "M02", attended=False, fine_absent=khr(1000))
        return close_meeting(s, m1.id, khr(16500))

    book.write(sheet)
    with book.read() as s:
        dara = member_position(s, v.members["M01"].id)
        assert (dara.compulsory_savings, dara.voluntary_savings, dara.total_savings) == (
            2000,
            1000,
            3000,
        )
        assert (dara.shares, dara.shares_value, dara.share_money_held) == (2, 10000, 2000)
        assert (dara.social_fund_paid, dara.fines_paid) == (500, 0)
        assert (dara.meetings_attended, dara.meetings_held) == (1, 1)
        assert member_position(s, v.members["M02"].id).fines_paid == 1000
        g = group_position(s, v.group.id, on=CYCLE_START)
        assert (g.cash_box, g.total_savings, g.shares_value, g.social_fund) == (
            16500,
            3000,
            10000,
            500,
        )
        assert (g.members, g.women, g.meetings_held) == (3, 2, 1)
        assert g.next_meeting == CYCLE_START + WEEK
        cash = cash_book(s, v.group.id, CYCLE_START, CYCLE_START)
        assert [r.cash_in for r in cash.lines] == [15500, 1000]
        assert cash.lines[-1].balance == cash.closing == 16500


def test_bank_deposit_and_withdrawal_at_one_meeting(book):
    v = make_vsla(book)
    m = open_(book, v.group.id, CYCLE_START)

    def sheet(s):
        set_line(s, m.id, "M01", savings=khr(10000))
        add_item(s, m.id, "bank_withdrawal", khr(2000))  # entered first on the sheet
        add_item(s, m.id, "bank_deposit", khr(5000))
        return close_meeting(s, m.id, khr(7000))

    book.write(sheet)
    b = balances(book, v.group.id)
    assert (b("bank"), b("cash_box")) == (3000, 7000)


def test_a_deposit_that_fits_only_after_the_bank_withdrawal_is_posted(book):
    """Found by the meeting property test: the box holds 10,000; the treasurer brings
    1,000 from the bank and takes 10,500 to it. Deposits used to be posted first, and
    the close was refused ("Cash box has 10,000 KHR; this entry would take it to -500")
    though the sheet ends with 500 in the box."""
    v = make_vsla(book)
    first = open_(book, v.group.id, CYCLE_START)

    def fill_bank(s):
        set_line(s, first.id, "M01", savings=khr(20000))
        add_item(s, first.id, "bank_deposit", khr(20000))
        return close_meeting(s, first.id, khr(0))

    book.write(fill_bank)
    m = open_(book, v.group.id, CYCLE_START + WEEK)

    def sheet(s):
        set_line(s, m.id, "M01", savings=khr(10000))
        add_item(s, m.id, "bank_deposit", khr(10500))  # more than the box held before
        add_item(s, m.id, "bank_withdrawal", khr(1000))
        return close_meeting(s, m.id, khr(500))

    closed = book.write(sheet)
    assert closed.meeting.status == "closed"
    b = balances(book, v.group.id)
    assert (b("bank"), b("cash_box")) == (20000 + 10500 - 1000, 500)
    with book.read() as s:
        assert verify_book(s).ok


def test_a_payout_beyond_the_social_fund_is_refused_when_entered(book):
    v = make_vsla(book)
    m = open_(book, v.group.id, CYCLE_START)
    book.write(lambda s: set_line(s, m.id, "M01", social_fund=khr(500)))
    with pytest.raises(MeetingError, match="social fund has 500 KHR"):
        book.write(lambda s: add_item(s, m.id, "social_fund_payout", khr(1000), member_code="M02"))
