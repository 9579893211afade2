"""The meeting's group items (F3): grants, expenses, bank trips, social fund payouts and a
member leaving, typed by the treasurer beside the sheet.

Checked as the treasurer would notice it: the expected cash on the sheet moves at once,
the ledger's refusals show in the form, nothing is posted before the close, and after
the close the cash box and the bank say what the items said.
"""

from __future__ import annotations

from ledger.groups import find_group
from ledger.meetings import ITEM_LABELS, find_meeting, meeting_summary
from ledger.positions import group_position
from tests.conftest import DEMO_TODAY
from tests.helpers import TESTER
from tests.test_tui_meeting import SIZE, _entries, _open_meeting_screen
from tests.tui_helpers import ACHM, make_app, screen_text
from tui.common import Confirm
from tui.meeting_items import MeetingItemsScreen
from tui.meeting_screen import CountCash, MeetingScreen


async def _choose(pilot, kind: str) -> None:
    """Pick a kind of item from the list with the keyboard (Enter, Down…, Enter), as
    after clicking on the list."""
    kinds = pilot.app.screen.query_one("#kind")
    kinds.focus()
    await pilot.press("enter")  # the list opens on the kind chosen now
    await pilot.pause()
    steps = list(ITEM_LABELS).index(kind) - list(ITEM_LABELS).index(kinds.value)
    await pilot.press(*["down" if steps > 0 else "up"] * abs(steps), "enter")
    await pilot.pause()


async def _add(pilot, kind: str, *fields: str) -> None:
    """Choose the kind, then type each field that kind takes, Enter after each (a field
    shows its text selected when reached, so typing replaces it and "" clears it)."""
    await _choose(pilot, kind)
    await pilot.press("tab")  # from the kind to its first field
    for value in fields:
        await pilot.press(*(value or ["backspace"]), "enter")
    await pilot.pause()


def _position(book):
    with book.as_user(TESTER).read() as session:
        return group_position(session, find_group(session, ACHM).id)


async def test_items_move_the_expected_cash_and_are_posted_at_the_close(app_book):
    before, entries = _position(app_book), _entries(app_book)
    app = make_app(app_book)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_meeting_screen(pilot)
        opening = screen.summary.meeting.opening_cash
        assert f"Expected cash {opening:,} KHR" in screen_text(pilot)

        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, MeetingItemsScreen)
        await _add(pilot, "grant", "200,000", "From the commune")
        await _add(pilot, "bank_deposit", "150000", "To ACLEDA")
        text = screen_text(pilot)
        assert "Grant received" in text and "+200,000" in text
        assert "Cash taken to the bank" in text and "-150,000" in text
        await pilot.press("escape")
        await pilot.pause()

        assert app.screen is screen
        assert f"Expected cash {opening + 50_000:,} KHR" in screen_text(pilot)
        assert _entries(app_book) == entries  # a draft: nothing posted yet

        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, CountCash)
        await pilot.press(*str(opening + 50_000), "enter", "enter")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        detail = screen_text(pilot)
        assert "Grant received: +200,000 KHR (From the commune)" in detail
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, MeetingScreen) and app.screen.read_only

    after = _position(app_book)
    assert after.cash_box == before.cash_box + 200_000 - 150_000
    assert after.bank == before.bank + 150_000


async def test_the_ledgers_refusal_shows_in_the_form_and_adds_nothing(app_book):
    app = make_app(app_book)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_meeting_screen(pilot)
        await pilot.press("f3")
        await pilot.pause()
        items = app.screen
        assert isinstance(items, MeetingItemsScreen)
        # A payout bigger than the whole social fund.
        await _add(pilot, "social_fund_payout", "AC01", "99,000,000", "Funeral")
        text = screen_text(pilot)
        assert "Not added: The social fund has" in text
        assert "cannot be paid out" in text
        assert items.items == ()
        # Without the member it is for: our own sentence, before the ledger is asked.
        await _add(pilot, "social_fund_payout", "", "10,000", "Funeral")
        assert "type the member's code" in screen_text(pilot)
        # A bad amount: the reason, in the same place.
        await _add(pilot, "expense", "5,00x", "Pens")
        assert "not a number" in screen_text(pilot) or "5,00x" in screen_text(pilot)
        assert items.items == ()
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen


async def test_an_item_removed_and_a_member_leaving_change_the_expected_cash(app_book):
    app = make_app(app_book)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open_meeting_screen(pilot)
        opening = screen.summary.meeting.opening_cash
        await pilot.press("f3")
        await pilot.pause()
        items = app.screen
        assert isinstance(items, MeetingItemsScreen)
        await _add(pilot, "expense", "12,000", "Ledger book and pens")
        await _add(pilot, "member_exit", "ac13", "Moving to Phnom Penh")
        assert [i.kind for i in items.items] == ["expense", "member_exit"]
        payout = -items.items[1].cash_delta
        assert payout > 0  # everything AC13 holds, worked out from the book

        items.query_one("#items").focus()
        await pilot.press("delete")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        await pilot.press("y")
        await pilot.pause()
        assert [i.kind for i in items.items] == ["member_exit"]
        await pilot.press("escape")
        await pilot.pause()
        assert f"Expected cash {opening - payout:,} KHR" in screen_text(pilot)

    with app_book.as_user(TESTER).read() as session:
        meeting = find_meeting(session, find_group(session, ACHM).id, DEMO_TODAY)
        assert meeting is not None and meeting.status == "open"
        summary = meeting_summary(session, meeting.id)
    assert [(i.kind, i.member_code) for i in summary.items] == [("member_exit", "AC13")]
