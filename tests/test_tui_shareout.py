"""The share-out screen: the preview is the ledger's plan, a cycle that cannot be shared
out yet says why, and posting happens only after the chair says yes."""

from __future__ import annotations

from textual.pilot import Pilot

from ledger.cycles import current_cycle
from ledger.groups import find_group
from ledger.shareout import ShareoutPlan, plan_shareout
from ledger.shareout_records import posted_shareouts
from tests.conftest import DEMO_TODAY
from tests.tui_helpers import ACHM, make_app, screen_text, sign_in, table_rows
from tui.common import Confirm, amount_text, money_text
from tui.shareout_screen import ShareoutScreen


async def open_shareout(pilot: Pilot, user: str = "chan") -> None:
    """Chan, the chair of SR-ACHM-01 (her only group), opens its share-out."""
    await sign_in(pilot, user)
    if user == "sophea":
        await pilot.press("enter")  # her first group is SR-ACHM-01
        await pilot.pause()
    await pilot.press("s")
    await pilot.pause()
    assert isinstance(pilot.app.screen, ShareoutScreen)


def ledger_plan(pilot: Pilot, **terms: object) -> ShareoutPlan:
    with pilot.app.signed.read() as session:  # type: ignore[attr-defined]
        group = find_group(session, ACHM).id
        return plan_shareout(session, group, on=DEMO_TODAY, today=DEMO_TODAY, **terms)  # type: ignore[arg-type]


def cycle_and_shareouts(pilot: Pilot) -> tuple[object, list[object]]:
    with pilot.app.signed.read() as session:  # type: ignore[attr-defined]
        group = find_group(session, ACHM).id
        return current_cycle(session, group, required=False), posted_shareouts(session, group)


async def test_loans_still_owed_are_the_plain_refusal(app_book):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_shareout(pilot)
        text = screen_text(pilot)
        assert "cannot be shared out as chosen" in text
        assert "Loans are still owed:" in text
        assert table_rows(pilot) == []
        await pilot.press("p")  # nothing to post
        await pilot.pause()
        assert isinstance(app.screen, ShareoutScreen)
        cycle, posted = cycle_and_shareouts(pilot)
        assert cycle is not None and posted == []


async def test_the_preview_totals_are_the_ledgers_plan(app_book):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_shareout(pilot)
        await pilot.press("d")  # the group decides to deduct loans from payouts
        await pilot.pause()
        plan = ledger_plan(pilot, deduct_loans=True)
        rows = table_rows(pilot)
        assert [r[0] for r in rows[:-1]] == [line.code for line in plan.lines]
        total = rows[-1]
        assert total[0] == "TOTAL"
        assert total[2] == str(plan.total_shares)
        assert total[5] == amount_text(plan.deducted, "KHR")
        assert total[6] == amount_text(plan.distributed, "KHR")
        text = screen_text(pilot)
        assert f"Pool\n{money_text(plan.pool, 'KHR')}" in text
        assert f"Leftover (kept)\n{money_text(plan.leftover, 'KHR')}" in text
        for row, line in zip(rows, plan.lines, strict=False):
            assert row[6] == amount_text(line.payout, "KHR")

        await pilot.press("m")  # profit by savings x time instead
        await pilot.pause()
        by_time = ledger_plan(pilot, deduct_loans=True, method="savings_time")
        assert table_rows(pilot)[-1][6] == amount_text(by_time.distributed, "KHR")


async def test_posting_after_yes_closes_the_cycle(app_book):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_shareout(pilot)
        await pilot.press("d")
        await pilot.pause()
        plan = ledger_plan(pilot, deduct_loans=True)
        await pilot.press("p")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        assert f"Pool: {money_text(plan.pool, 'KHR')}" in screen_text(pilot)
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, ShareoutScreen)
        assert "Posted. Cycle" in screen_text(pilot)

        cycle, posted = cycle_and_shareouts(pilot)
        assert cycle is None  # closed
        assert len(posted) == 1
        record = posted[0]
        assert (record.distributed, record.deducted, record.pool) == (  # type: ignore[attr-defined]
            plan.distributed,
            plan.deducted,
            plan.pool,
        )
        await pilot.press("p")  # a second time: nothing more is posted
        await pilot.pause()
        assert isinstance(app.screen, ShareoutScreen)
        assert len(cycle_and_shareouts(pilot)[1]) == 1


async def test_saying_no_posts_nothing(app_book):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_shareout(pilot)
        await pilot.press("d", "p")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, ShareoutScreen)
        cycle, posted = cycle_and_shareouts(pilot)
        assert cycle is not None and posted == []


async def test_only_the_chair_posts(app_book):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_shareout(pilot, "sophea")  # treasurer and coordinator, not chair
        await pilot.press("d", "p")
        await pilot.pause()
        assert isinstance(app.screen, ShareoutScreen)  # no question asked
        cycle, posted = cycle_and_shareouts(pilot)
        assert cycle is not None and posted == []


async def test_a_bad_cash_unit_is_refused_in_place(app_book):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_shareout(pilot)
        await pilot.press("d", "u")
        await pilot.press(*"abc", "enter")
        await pilot.pause()
        assert "'abc' is not a number" in screen_text(pilot)
        assert table_rows(pilot) == []
        await pilot.press("u", "end", *["backspace"] * 3, *"1000", "enter")
        await pilot.pause()
        plan = ledger_plan(pilot, deduct_loans=True, cash_unit=1000)
        assert table_rows(pilot)[-1][6] == amount_text(plan.distributed, "KHR")
