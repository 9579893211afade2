"""The app's frame: signing in, the groups a user sees, the dashboard, locking, help."""

from __future__ import annotations

import pytest

from ledger.groups import find_group
from ledger.positions import group_position
from tests.tui_helpers import ACHM, make_app, screen_text, sign_in, table_rows
from tui.dashboard_screen import DashboardScreen
from tui.groups_screen import GroupsScreen
from tui.sign_in import SignInScreen


async def test_sign_in_lists_the_users_groups_and_opens_a_dashboard(app_book):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        assert isinstance(app.screen, SignInScreen)
        await sign_in(pilot, typed=True)
        assert isinstance(app.screen, GroupsScreen)
        codes = [row[0] for row in table_rows(pilot)]
        assert codes == ["SR-ACHM-01", "SR-BKNG-01", "SR-PUOK-01"]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        text = screen_text(pilot)
        with app.signed.read() as session:
            cash = group_position(session, find_group(session, ACHM).id).cash_box
        assert f"Cash box\n{cash:,} KHR" in text
        assert "Members in arrears" in text


async def test_wrong_password_is_refused_on_the_screen(app_book):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "sophea", "not-the-password", typed=True)
        assert isinstance(app.screen, SignInScreen)
        assert "wrong" in screen_text(pilot)
        assert app.signed is None


async def test_a_treasurer_sees_only_her_group(app_book):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "dara")
        # One group: the dashboard opens straight away, and it is hers.
        assert isinstance(app.screen, DashboardScreen)
        assert ACHM in screen_text(pilot)
        await pilot.press("escape")
        assert [row[0] for row in table_rows(pilot)] == [ACHM]


async def test_idle_app_locks_and_the_same_user_comes_back_to_her_screen(app_book):
    app = make_app(app_book, idle_minutes=0.001)
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "dara")
        assert isinstance(app.screen, DashboardScreen)
        app._check_idle()  # the timer's check, without waiting for it
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen)
        # The app's own 5-second timer must not lock again while the password is checked
        # (argon2 is slow on purpose; on a loaded machine the check outlasted a tick).
        app.idle_seconds = 3600
        await pilot.press(*"kampot-pepper-2026", "enter")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)


async def test_another_user_unlocking_starts_from_her_own_groups(app_book):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "dara")
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen)
        user = app.screen.query_one("#user")
        user.value = ""
        await sign_in(pilot, "vanna")
        assert isinstance(app.screen, GroupsScreen)
        assert len(app.screen_stack) == 2  # nothing of dara's screens is left behind
        assert app.actor.username == "vanna"


async def test_khmer_chosen_at_sign_in_labels_the_dashboard(app_book):
    from tui.words import set_language

    app = make_app(app_book)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            app.screen.query_one("#language").value = "km"
            await sign_in(pilot, "dara")
            assert "ប្រអប់សាច់ប្រាក់" in screen_text(pilot)  # "Cash box"
    finally:
        set_language("en")


async def test_help_lists_the_keys_of_the_screen(app_book):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "dara")
        await pilot.press("f1")
        await pilot.pause()
        text = screen_text(pilot)
        assert "Meeting" in text and "Ctrl+P" in text


async def test_an_unexpected_error_goes_to_the_log_not_the_screen(app_book, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    app = make_app(app_book)

    def broken() -> None:
        raise RuntimeError("the disk caught fire")

    with pytest.raises(RuntimeError):  # the pilot hands the error to the test, too
        async with app.run_test(size=(100, 30)) as pilot:
            await sign_in(pilot, "dara")
            monkeypatch.setattr(app.screen, "action_refresh", broken)
            await pilot.press("ctrl+r")
            await pilot.pause()
    log = (tmp_path / "state" / "sansam" / "log" / "sansam.log").read_text()
    assert "Traceback" in log and "the disk caught fire" in log
    assert app.return_code == 1
