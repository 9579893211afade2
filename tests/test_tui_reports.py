"""The print screen: a member's statement, the group report and the portfolio to PDF, a
bad folder refused in place, and the PDF handed to a configured printer command."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest
from textual.widgets import Checkbox, Input, Select

from ledger.audit import audit_trail
from ledger.group_report import group_report
from ledger.groups import find_group
from ledger.member_statement import member_statement, members_in_period
from reports import pool
from reports.text import Words
from tests.conftest import DEMO_TODAY
from tests.report_helpers import pdf_text
from tests.tui_helpers import ACHM, make_app, screen_text, sign_in
from tui.printing import PRINT_COMMAND_VARIABLE
from tui.reports_screen import ReportsScreen

START = dt.date(2026, 9, 1)


@pytest.fixture(autouse=True)
def no_printer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests do not inherit a printer from the machine they run on."""
    monkeypatch.delenv(PRINT_COMMAND_VARIABLE, raising=False)


async def open_print_screen(pilot, folder: Path) -> ReportsScreen:
    """dara (treasurer of SR-ACHM-01) opens the print screen from her dashboard."""
    await sign_in(pilot, "dara")
    await pilot.press("p")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, ReportsScreen)
    screen.query_one("#folder", Input).value = str(folder)
    screen.query_one("#lang", Select).value = "en"
    return screen


async def fill(pilot, screen: ReportsScreen, **fields: object) -> None:
    for name, value in fields.items():
        widget = screen.query_one(f"#{name}")
        assert isinstance(widget, Input | Select | Checkbox)
        widget.value = value  # type: ignore[assignment]
    await pilot.pause()


async def finish(pilot) -> None:
    """Wait for the worker writing the PDF, and for what it says on screen."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def achm_member_codes(book) -> list[str]:
    with book.read() as session:
        group = find_group(session, ACHM)
        return [m.code for m in members_in_period(session, group.id, START, DEMO_TODAY)]


async def test_a_member_statement_is_written_with_her_closing_savings(app_book, tmp_path):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_print_screen(pilot, tmp_path)
        code = achm_member_codes(app.signed)[1]
        await fill(pilot, screen, member=code, start=START.isoformat())
        name = screen.query_one("#name", Input).value
        assert name == f"{ACHM}-{code}-20261122.pdf"  # filled in from the form
        await pilot.press("ctrl+s")
        await finish(pilot)
        out = tmp_path / name
        assert f"Saved: {out}" in screen_text(pilot)
        with app.signed.read() as session:
            group = find_group(session, ACHM)
            st = member_statement(session, group.id, code, START, DEMO_TODAY)
            trail = [e.detail for e in audit_trail(session, group_id=group.id, limit=3)]
    text = pdf_text(out.read_bytes())
    assert "Member statement" in text and code in text
    assert Words("en").amount(st.total_savings, st.group.currency, unit=True) in text
    assert f"printed the statement of {code}" in trail  # every print is audited
    assert not list(tmp_path.glob("*.partial"))


@pytest.mark.parametrize("drawn_by", ["the app", "worker processes"])
async def test_every_member_in_one_pdf(app_book, tmp_path, monkeypatch, drawn_by):
    if drawn_by == "worker processes":  # as a group of a hundred members would be
        monkeypatch.setattr(pool, "POOL_FROM", 4)
        monkeypatch.setattr(pool, "CHUNK", 3)
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_print_screen(pilot, tmp_path)
        await fill(pilot, screen, kind="statements", start=START.isoformat())
        await pilot.press("ctrl+s")
        await finish(pilot)
        codes = achm_member_codes(app.signed)
        assert f"{len(codes)} statements" in screen_text(pilot)
        out = tmp_path / f"{ACHM}-statements-20261122.pdf"
    text = pdf_text(out.read_bytes())
    assert text.count("Member statement") == len(codes)
    where = [text.index(f"({code})") for code in codes]  # "Member: Name (CODE)"
    assert where == sorted(where)  # in the members' order, chunks and all


async def test_the_group_report_for_a_period(app_book, tmp_path):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_print_screen(pilot, tmp_path)
        await fill(pilot, screen, kind="group", start="2026-10-01", end="2026-11-15")
        assert screen.query_one("#name", Input).value == f"{ACHM}-report-20261115.pdf"
        await pilot.click("#save")
        await finish(pilot)
        out = tmp_path / f"{ACHM}-report-20261115.pdf"
        assert str(out) in screen_text(pilot)
        with app.signed.read() as session:
            group = find_group(session, ACHM)
            report = group_report(session, group.id, dt.date(2026, 10, 1), dt.date(2026, 11, 15))
    text = pdf_text(out.read_bytes())
    assert "Group report" in text and ACHM in text
    assert "15-11-2026" in text  # the period's end, as the report prints dates
    assert report.group.code == ACHM


async def test_the_portfolio_report(app_book, tmp_path):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_print_screen(pilot, tmp_path)
        await fill(pilot, screen, kind="portfolio")
        assert screen.query_one("#start", Input).disabled  # the portfolio is as of a day
        await pilot.press("ctrl+s")
        await finish(pilot)
    assert "Portfolio report" in pdf_text((tmp_path / "portfolio-20261122.pdf").read_bytes())


async def test_the_default_period_is_the_current_cycle_up_to_today(app_book, tmp_path):
    from ledger.cycles import current_cycle

    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_print_screen(pilot, tmp_path)
        with app.signed.read() as session:
            cycle = current_cycle(session, find_group(session, ACHM).id, required=False)
        assert screen.query_one("#end", Input).value == DEMO_TODAY.isoformat()
        if cycle is not None:
            assert screen.query_one("#start", Input).value == cycle.starts_on.isoformat()


@pytest.mark.parametrize(
    ("folder", "name", "said"),
    [
        ("{tmp}/notes.txt", "x.pdf", "this is a file, not a folder"),
        ("{tmp}/notes.txt/inside", "x.pdf", "this is a file, not a folder"),
        ("{tmp}/out", "x.txt", "does not end in .pdf"),
        ("{tmp}/out", "", "Type a file name"),
        ("", "x.pdf", "Type the folder"),
    ],
)
async def test_a_bad_output_is_refused_plainly_and_nothing_is_written(
    app_book, tmp_path, folder, name, said
):
    (tmp_path / "notes.txt").write_text("not a folder")
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_print_screen(pilot, tmp_path)
        await fill(pilot, screen, folder=folder.format(tmp=tmp_path), name=name)
        await pilot.press("ctrl+s")
        await finish(pilot)
        assert said in screen_text(pilot)
        assert "Saved" not in screen_text(pilot)
    assert not list(tmp_path.rglob("*.pdf*"))
    assert not (tmp_path / "out").exists()


async def test_a_period_that_ends_before_it_starts_is_refused(app_book, tmp_path):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_print_screen(pilot, tmp_path)
        await fill(pilot, screen, start="2026-11-01", end="2026-10-01")
        await pilot.press("ctrl+s")
        await finish(pilot)
        assert "The period ends before it starts" in screen_text(pilot)
        await fill(pilot, screen, start="2026-13-01", end="2026-10-01")
        await pilot.press("ctrl+s")
        await finish(pilot)
        assert "there is no month 13" in screen_text(pilot)
    assert not list(tmp_path.rglob("*.pdf*"))


def printer_script(tmp_path: Path, *, fails: bool = False) -> tuple[str, Path]:
    """A stand-in for `lp`: copies the file it is given into a folder (or fails)."""
    tray = tmp_path / "tray"
    tray.mkdir()
    script = tmp_path / "fake-lp"
    body = 'echo "printer on fire" >&2\nexit 3\n' if fails else f'cp "$1" "{tray}/"\n'
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script), tray


async def test_print_sends_the_pdf_to_the_configured_command(app_book, tmp_path, monkeypatch):
    command, tray = printer_script(tmp_path)
    monkeypatch.setenv(PRINT_COMMAND_VARIABLE, command)
    out = tmp_path / "out"
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_print_screen(pilot, out)
        await fill(pilot, screen, kind="group")
        await pilot.press("ctrl+o")
        await finish(pilot)
        assert "Sent to the printer" in screen_text(pilot)
    printed = [p.name for p in tray.iterdir()]
    assert printed == [f"{ACHM}-report-20261122.pdf"]
    assert (tray / printed[0]).read_bytes() == (out / printed[0]).read_bytes()


async def test_a_printer_failure_is_said_plainly(app_book, tmp_path, monkeypatch):
    command, tray = printer_script(tmp_path, fails=True)
    monkeypatch.setenv(PRINT_COMMAND_VARIABLE, command)
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_print_screen(pilot, tmp_path / "out")
        await fill(pilot, screen, kind="group")
        await pilot.press("ctrl+o")
        await finish(pilot)
        text = screen_text(pilot)
        assert "The printer refused the document" in text and "printer on fire" in text
        assert "Saved" in text  # the PDF itself was written and is there to print later
    assert not list(tray.iterdir())


async def test_without_a_printer_the_screen_says_how_to_set_one_up(app_book, tmp_path):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_print_screen(pilot, tmp_path)
        assert "SANSAM_PRINT_COMMAND" in screen_text(pilot)
        assert app.screen.query_one("#print").disabled
        await pilot.press("ctrl+o")
        await finish(pilot)
    assert not list(tmp_path.rglob("*.pdf*"))
