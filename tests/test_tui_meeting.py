"""The meeting screen, driven as a treasurer drives it: open, type the sheet, close.

What is checked is what the group's books say afterwards (read back through the
ledger), what the screen shows, and that nothing is posted before the close.
"""

from __future__ import annotations

from sqlalchemy import func, select

from ledger.groups import find_group
from ledger.meetings import find_meeting, meeting_summary
from ledger.members import add_member, list_members
from ledger.models import JournalEntry
from ledger.positions import group_position
from tests.conftest import DEMO_TODAY
from tests.helpers import TESTER
from tests.tui_helpers import ACHM, make_app, screen_text, sign_in
from tui.meeting_screen import AmountCell, CountCash, MeetingScreen
from tui.sheet_rows import NARROW_FIELDS

SIZE = (100, 40)


def _entries(book) -> int:
    with book.as_user(TESTER).read() as session:
        return session.execute(select(func.count()).select_from(JournalEntry)).scalar_one()


async def _open_meeting_screen(pilot) -> MeetingScreen:
    await sign_in(pilot, "dara")  # treasurer of SR-ACHM-01: its dashboard opens
    await pilot.press("m")
    await pilot.pause()
    await pilot.press("ctrl+o")  # open today's meeting
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, MeetingScreen) and screen.record is not None
    return screen


async def _type_row(pilot, savings: str, shares: str, social: str, fine: str = "") -> None:
    """Attendance (Enter: present), then the amounts, each followed by Enter."""
    await pilot.press("enter")
    for value in (savings, shares, social, fine):
        await pilot.press(*value, "enter")


async def test_a_meeting_of_20_members_is_recorded_and_closed(app_book):
    group_id = app_book.as_user(TESTER).write(lambda s: find_group(s, ACHM).id)
    for n in range(14, 21):  # the demo group has 13 members: 7 join for this meeting
        app_book.as_user(TESTER).write(
            lambda s, n=n: add_member(
                s, group_id, f"AC{n}", name_latin=f"New member {n}", joined_on=DEMO_TODAY
            )
        )
    before = _entries(app_book)
    with app_book.as_user(TESTER).read() as session:
        cash_before = group_position(session, group_id).cash_box
        members = [m.code for m in list_members(session, group_id, on=DEMO_TODAY)]
    assert len(members) == 20

    app = make_app(app_book)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_meeting_screen(pilot)
        assert [r.code for r in screen.rows] == members
        for row in screen.rows:
            if row.has_loan:  # Repay is the row's last cell: Enter after it moves on
                await _type_row(pilot, "5000", "5,000", "500")
                await pilot.press("enter")
            else:
                await _type_row(pilot, "5000", "5,000", "500")
        assert _entries(app_book) == before  # a draft: nothing posted yet
        text = screen_text(pilot)
        assert "20/20 present" in text
        assert f"Expected cash {cash_before + 20 * 10_500:,} KHR" in text

        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, CountCash)
        await pilot.press(*f"{cash_before + 20 * 10_500}", "enter", "enter")
        await pilot.pause()
        await pilot.press("y")  # the confirmation before posting
        await pilot.pause()
        closed = app.screen
        assert isinstance(closed, MeetingScreen) and closed.read_only
        assert "closed, read-only" in screen_text(pilot)
        assert all(cell.disabled for cell in closed.query(AmountCell))

    with app_book.as_user(TESTER).read() as session:
        position = group_position(session, group_id)
        meeting = find_meeting(session, group_id, DEMO_TODAY)
        assert meeting is not None and meeting.status == "closed"
        summary = meeting_summary(session, meeting.id)
    assert position.cash_box == cash_before + 20 * 10_500
    assert summary.attended == 20
    assert summary.totals["savings"] == 20 * 5000
    assert summary.totals["share_money"] == 20 * 5000
    assert summary.totals["social_fund"] == 20 * 500
    assert _entries(app_book) > before


async def test_the_draft_survives_a_restart_and_nothing_is_posted(app_book):
    before = _entries(app_book)
    app = make_app(app_book)
    async with app.run_test(size=SIZE) as pilot:
        await _open_meeting_screen(pilot)
        await _type_row(pilot, "7000", "", "500")
        await _type_row(pilot, "6,000", "", "")
        # The PC dies: the app stops without closing anything.
    assert _entries(app_book) == before

    again = make_app(app_book)
    async with again.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "dara")
        assert "is open" in screen_text(pilot)  # the dashboard's warning
        await pilot.press("m")
        await pilot.pause()
        screen = again.screen
        assert isinstance(screen, MeetingScreen) and not screen.read_only
        first, second = screen.rows[0], screen.rows[1]
        assert (first.attended, first.value("savings"), first.value("social_fund")) == (
            True,
            7000,
            500,
        )
        assert second.value("savings") == 6000
        assert screen.query_one("#c-1-savings", AmountCell).value == "6,000"
        assert "2/13 present" in screen_text(pilot)


async def test_a_bad_amount_is_refused_in_its_cell_with_the_reason(app_book):
    app = make_app(app_book)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_meeting_screen(pilot)
        await pilot.press("enter", *"5,00x")
        cell = screen.query_one("#c-0-savings", AmountCell)
        assert cell.has_class("-invalid")
        assert "is not a number" in screen_text(pilot)
        await pilot.press("enter")  # refused: the cursor stays in the cell
        assert app.focused is cell
        await pilot.press(*["backspace"] * 5, *"5000")
        assert not cell.has_class("-invalid")
        await pilot.press("enter")
        assert app.focused is screen.query_one("#c-0-share_money", AmountCell)


async def test_the_ledgers_refusal_marks_the_cell_and_closing_waits(app_book):
    app = make_app(app_book)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_meeting_screen(pilot)
        # More shares than a meeting allows: the ledger refuses the row.
        await pilot.press("enter", *"5000", "enter", *"900000", "enter")
        cell = screen.query_one("#c-0-share_money", AmountCell)
        assert cell.has_class("-invalid")
        assert "at most" in screen_text(pilot)
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, MeetingScreen)  # no cash count while a cell is wrong


async def test_a_repayment_above_what_is_owed_is_refused(app_book):
    app = make_app(app_book)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_meeting_screen(pilot)
        index = next(i for i, r in enumerate(screen.rows) if r.has_loan)
        repay = screen.query_one(f"#c-{index}-repay", AmountCell)
        repay.focus()
        await pilot.pause()
        await pilot.press(*"99000000", "enter")
        assert repay.has_class("-invalid")
        assert "more than is owed" in screen_text(pilot)


async def test_a_closed_meeting_opens_read_only_from_the_list(app_book):
    app = make_app(app_book)
    async with app.run_test(size=SIZE) as pilot:
        await sign_in(pilot, "dara")
        await pilot.press("m")
        await pilot.pause()
        await pilot.click("#meetings")
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, MeetingScreen) and screen.read_only
        assert screen.record is not None and screen.record.number == 12
        assert "Counted cash" in screen_text(pilot)
        assert all(c.disabled for c in screen.query(AmountCell))
        assert screen.columns == NARROW_FIELDS


async def test_closing_with_a_difference_needs_a_comment(app_book):
    app = make_app(app_book)
    async with app.run_test(size=SIZE) as pilot:
        await _open_meeting_screen(pilot)
        await _type_row(pilot, "5000", "", "")
        await pilot.press("f2")
        await pilot.pause()
        await pilot.press(*"1000", "enter", "enter")  # no comment
        assert isinstance(app.screen, CountCash)
        assert "write a comment" in screen_text(pilot)
        await pilot.press(*"short by mistake", "enter")
        await pilot.press("n")  # not now: nothing is posted
        await pilot.pause()
        assert isinstance(app.screen, MeetingScreen) and not app.screen.read_only


async def test_typing_an_amount_on_attendance_marks_present_and_fills_savings(app_book):
    app = make_app(app_book)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_meeting_screen(pilot)
        await pilot.press(*"7000", "enter")  # straight from the attendance cell
        first = screen.rows[0]
        assert first.attended is True and first.value("savings") == 7000
        assert screen.query_one("#c-0-savings", AmountCell).value == "7,000"


async def test_a_closed_meeting_with_a_settled_loan_shows_no_error(app_book):
    """Closing settles a loan repaid in full: the read-only sheet still shows what was
    repaid, and no cell complains that the member has no loan any more."""
    app = make_app(app_book)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_meeting_screen(pilot)
        index = next(i for i, r in enumerate(screen.rows) if r.has_loan)
        row = screen.rows[index]
        with app.signed.read() as session:
            from ledger.loans import loan_statements, loans_of_group

            owed = sum(
                st.owed_now
                for st in loan_statements(
                    session, loans_of_group(session, screen.group_id), on=DEMO_TODAY
                )
                if st.loan.member_code == row.code
            )
        repay = screen.query_one(f"#c-{index}-repay", AmountCell)
        repay.focus()
        await pilot.pause()
        await pilot.press(*str(owed), "enter")
        expected = screen.base + owed
        await pilot.press("f2")
        await pilot.pause()
        await pilot.press(*str(expected), "enter", "enter")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        closed = app.screen
        assert isinstance(closed, MeetingScreen) and closed.read_only
        assert closed.rows[index].repay == owed
        assert "no loan" not in screen_text(pilot)
