"""Layout snapshots: the screens' text at the terminal sizes treasurers have (80×24 and
wider). A change of layout shows here as a readable diff; after checking it by eye, run
with ``SANSAM_UPDATE_SNAPSHOTS=1`` to accept it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.tui_helpers import make_app, sign_in

SNAPSHOTS = Path(__file__).with_name("snapshots")


def screen_lines(app) -> str:  # type: ignore[no-untyped-def]
    """What the terminal shows, as plain text. The header line, which holds the book's
    path (different on every run), is left out."""
    strips = app.screen._compositor.render_strips()
    lines = [strip.text.rstrip() for strip in strips]
    if lines and "Sansam" in lines[0] and app.screen.query("Header"):
        lines = lines[1:]
    return "\n".join(lines)


def check(name: str, text: str) -> None:
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("SANSAM_UPDATE_SNAPSHOTS") or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
        if not os.environ.get("SANSAM_UPDATE_SNAPSHOTS"):
            pytest.fail(f"new snapshot {path.name} written: check it by eye and commit it")
    assert text + "\n" == path.read_text(encoding="utf-8")


async def test_sign_in_at_80_by_24(app_book):
    app = make_app(app_book)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        check("sign_in_80x24", screen_lines(app))


async def test_dashboard_at_80_by_24(app_book):
    app = make_app(app_book)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "dara")
        check("dashboard_80x24", screen_lines(app))


async def test_meeting_sheet_at_80_by_24_and_160_by_48(app_book):
    for width, height in ((80, 24), (160, 48)):
        app = make_app(app_book)
        async with app.run_test(size=(width, height)) as pilot:
            await sign_in(pilot, "dara")
            await pilot.press("m")
            await pilot.pause()
            if width == 80:
                await pilot.press("ctrl+o")
                await pilot.pause()
                await pilot.press("enter", *"5000", "enter", *"10000", "enter")
            await pilot.pause()
            check(f"meeting_{width}x{height}", screen_lines(app))
