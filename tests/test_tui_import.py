"""The import screen: the treasurer picks a CSV from the Sansam folder, confirms, and the
file goes in whole (in a worker, with a progress bar) or not at all, with the bad row
named on the screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import ProgressBar

from ledger.groups import find_group
from ledger.meetings import find_meeting
from ledger.members import list_members
from ledger.positions import group_position
from tests.conftest import DEMO_TODAY
from tests.helpers import TESTER
from tests.tui_helpers import ACHM, make_app, screen_text, sign_in, table_rows
from tui.common import Confirm
from tui.import_screen import ImportScreen

MEMBERS = (
    "code,name_latin,joined_on,name_khmer,sex\n"
    f"AC20,Keo Sreymom,{DEMO_TODAY},កែវ ស្រីមុំ,F\n"
    f"AC21,Touch Sopheap,{DEMO_TODAY},,M\n"
)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The Sansam documents folder, where the treasurer saved her spreadsheets."""
    monkeypatch.setattr("tui.import_screen.default_folder", lambda: tmp_path)
    return tmp_path


def _members(book) -> list[str]:
    with book.as_user(TESTER).read() as session:
        return [m.code for m in list_members(session, find_group(session, ACHM).id)]


async def _import(pilot, name: str, kind_steps: int = 0) -> ImportScreen:
    """From the dashboard: I, choose what is imported, pick the file in the list, Y."""
    await sign_in(pilot, "dara")
    await pilot.press("i")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, ImportScreen)
    if kind_steps:
        screen.query_one("#kind").focus()
        await pilot.press("enter", *["down"] * kind_steps, "enter")
    names = [row[0] for row in table_rows(pilot, "#files")]
    screen.query_one("#files").focus()
    await pilot.press(*["down"] * names.index(name), "enter")
    await pilot.pause()
    assert isinstance(pilot.app.screen, Confirm)
    await pilot.press("y")
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    return screen


async def test_members_are_imported_from_a_file_in_the_folder(app_book, folder):
    (folder / "register.csv").write_text(MEMBERS, encoding="utf-8")
    before = _members(app_book)
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await _import(pilot, "register.csv")
        text = screen_text(pilot)
        assert "Imported register.csv. 2 rows: 2 members added, 0 already in the book" in text
        bar = screen.query_one("#import-progress", ProgressBar)
        assert bar.total == 2 and bar.progress == 2
    assert _members(app_book) == [*before, "AC20", "AC21"]


async def test_a_bad_row_is_named_and_nothing_is_written(app_book, folder):
    bad = MEMBERS + "AC22,Chea Dany,22/11/2026,,F\n"
    (folder / "register.csv").write_text(bad, encoding="utf-8")
    before = _members(app_book)
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await _import(pilot, "register.csv")
        text = screen_text(pilot)
        assert "Row 4: joined_on '22/11/2026' is not a date" in text
        assert text.count("Nothing was imported") == 1
    assert _members(app_book) == before  # the two good rows were not kept either


async def test_meetings_are_recorded_from_collection_sheets(app_book, folder):
    with app_book.as_user(TESTER).read() as session:
        group_id = find_group(session, ACHM).id
        cash = group_position(session, group_id).cash_box
    header = (
        "date,member,attended,savings,voluntary_savings,withdrawal,shares,social_fund,fine,"
        "loan_repayment,counted_cash,comment\n"
    )
    sheet = header + (
        f"{DEMO_TODAY},AC01,yes,5000,,,,500,,,,\n{DEMO_TODAY},AC02,no,,,,,,1000,,{cash + 6500},\n"
    )
    (folder / "sheets.csv").write_text(sheet, encoding="utf-8")
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await _import(pilot, "sheets.csv", kind_steps=1)
        assert "2 rows: 1 meetings recorded, 0 already in the book" in screen_text(pilot)
    with app_book.as_user(TESTER).read() as session:
        meeting = find_meeting(session, group_id, DEMO_TODAY)
        assert meeting is not None and meeting.status == "closed"
        assert group_position(session, group_id).cash_box == cash + 6500


async def test_a_missing_file_is_refused_before_anything_is_asked(app_book, folder):
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "dara")
        await pilot.press("i")
        await pilot.pause()
        await pilot.press(*"nothere.csv", "enter")  # typed after the folder shown
        await pilot.pause()
        assert isinstance(app.screen, ImportScreen)
        assert f"There is no file {folder}/nothere.csv." in screen_text(pilot)


async def test_an_excel_register_is_listed_and_imported(app_book, folder):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for line in MEMBERS.strip().splitlines():
        sheet.append(line.split(","))
    workbook.save(folder / "register.xlsx")
    before = _members(app_book)
    app = make_app(app_book)
    async with app.run_test(size=(100, 30)) as pilot:
        await _import(pilot, "register.xlsx")
        assert "2 rows: 2 members added" in screen_text(pilot)
    assert _members(app_book) == [*before, "AC20", "AC21"]
