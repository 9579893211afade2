"""Importing from paper: the member register and past collection sheets, as CSV files
or Excel workbooks.

A group moving from paper types its register and its old sheets into a spreadsheet and
saves them as "CSV UTF-8". The treasurer picks the file (those in the Sansam documents
folder are listed), is told how many rows it holds, and confirms. The import runs in a
worker with a progress bar, so years of sheets do not freeze the screen, and it is all
or nothing: the first bad row is named with its reason and nothing is written. Importing
the same file again changes nothing.

Opening balances and loans carried over from paper are set up once, by the coordinator,
with ``sansam opening import`` and ``sansam opening loans``: they take a cut-off date
and the group's own amounts, and are not a treasurer's everyday work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import (
    Button,
    DataTable,
    Footer,
    Header,
    Input,
    Label,
    ProgressBar,
    Select,
    Static,
)

from ledger import member_import, sheet_import
from ledger.db import Book
from ledger.errors import ImportRejected, LedgerError
from ledger.groups import get_group
from tui.common import Confirm, GroupScreen
from tui.printing import default_folder
from tui.words import t

Importer = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class ImportKind:
    title: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    run: Importer
    done: Callable[[Any], str]


KINDS: dict[str, ImportKind] = {
    "members": ImportKind(
        "Members, from the paper register",
        member_import.REQUIRED,
        member_import.OPTIONAL,
        lambda session, group_id, path, today, on_progress: member_import.import_members(
            session, group_id, path, on_progress=on_progress
        ),
        lambda s: (
            f"{s.rows} {t('rows')}: {s.added} {t('members added')}, "
            f"{s.unchanged} {t('already in the book, unchanged')}."
        ),
    ),
    "meetings": ImportKind(
        "Meetings, from collection sheets",
        sheet_import.REQUIRED,
        sheet_import.OPTIONAL,
        lambda session, group_id, path, today, on_progress: sheet_import.import_meetings(
            session, group_id, path, today=today, on_progress=on_progress
        ),
        lambda s: (
            f"{s.rows} {t('rows')}: {s.meetings_recorded} {t('meetings recorded')}, "
            f"{s.meetings_already_present} {t('already in the book, unchanged')}."
        ),
    ),
}
LISTED_FILES = 200


SUFFIXES = (".csv", ".xlsx")


def count_rows(path: Path) -> int:
    """The data rows of a file, for the question and the progress bar: a CSV's non-empty
    lines less the header (a value with a line break in it counts twice; the bar only
    needs to be near), a workbook's first sheet's rows less the header."""
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(path, read_only=True)
        except Exception:  # not a workbook after all: the import will say so plainly
            return 0
        try:
            return max((workbook.worksheets[0].max_row or 1) - 1, 0)
        finally:
            workbook.close()
    with open(path, "rb") as handle:
        return max(sum(1 for line in handle if line.strip()) - 1, 0)


class ImportScreen(GroupScreen):
    BINDINGS = [
        Binding("f5", "start", "Import"),
        Binding("escape", "back", "Back"),
    ]
    DEFAULT_CSS = """
    ImportScreen #import-form { height: auto; padding: 0 1; }
    ImportScreen .row { height: auto; }
    ImportScreen .row Label { width: 10; padding: 1 1 0 0; }
    ImportScreen #kind, ImportScreen #path { width: 1fr; }
    ImportScreen #columns { height: auto; padding: 0 1; }
    ImportScreen #files { height: 1fr; }
    ImportScreen #import-progress { height: 1; padding: 0 1; }
    ImportScreen #import-status { height: auto; padding: 0 1; }
    """

    def __init__(self, group_id: int) -> None:
        super().__init__(group_id)
        self.busy = False
        self.folder = default_folder()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="title", classes="title")
        with Vertical(id="import-form"):
            with Horizontal(classes="row"):
                yield Label(t("What"))
                yield Select(
                    [(t(kind.title), key) for key, kind in KINDS.items()],
                    value="members",
                    allow_blank=False,
                    id="kind",
                )
            yield Static("", id="columns", classes="hint", markup=False)
            with Horizontal(classes="row"):
                yield Label(t("File"))
                yield Input(str(self.folder) + "/", id="path", select_on_focus=False)
                yield Button(f"{t('Import')} (F5)", variant="primary", id="start")
        yield Static(
            f"{t('CSV and Excel files in')} {self.folder} ({t('Enter picks one')})",
            classes="hint",
            markup=False,
        )
        table: DataTable[str] = DataTable(id="files", cursor_type="row")
        table.add_columns("File", "Rows", "Saved on")
        yield table
        yield ProgressBar(id="import-progress", show_eta=False)
        yield Static("", id="import-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        book = self.sansam.signed
        assert book is not None
        with book.read() as session:
            group = get_group(session, self.group_id)
        self.group_code = group.code
        self.query_one("#title", Static).update(f"{t('Import into')} {group.code} · {group.name}")
        self.query_one("#import-progress", ProgressBar).display = False
        self._show_columns("members")
        self._list_files()
        self.query_one("#path", Input).focus()

    def _show_columns(self, key: str) -> None:
        kind = KINDS[key]
        text = f"{t('Columns')}: {','.join(kind.required)}"
        if kind.optional:
            text += f"  ({t('optional')}: {','.join(kind.optional)})"
        self.query_one("#columns", Static).update(text)

    def _list_files(self) -> None:
        table = self.query_one("#files", DataTable)
        table.clear()
        if not self.folder.is_dir():
            return
        files = sorted(
            (p for p in self.folder.iterdir() if p.suffix.lower() in SUFFIXES and p.is_file()),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )[:LISTED_FILES]
        for p in files:
            saved = dt.datetime.fromtimestamp(p.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
            table.add_row(p.name, f"{count_rows(p):,}", saved, key=str(p))

    def on_select_changed(self, event: Select.Changed) -> None:
        self._show_columns(str(event.value))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        assert event.row_key.value is not None
        self.query_one("#path", Input).value = event.row_key.value
        self.action_start()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_start()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "start":
            self.action_start()

    # --- importing -------------------------------------------------------------------------

    def action_start(self) -> None:
        """Check the file can be read, then ask before anything is written."""
        if self.busy:
            self.notify(t("An import is running; wait for it to finish."))
            return
        typed = self.query_one("#path", Input).value.strip()
        path = Path(typed).expanduser()
        if not typed or path.is_dir():
            self._say(t("Type the file's name, or pick one from the list."), error=True)
            return
        if not path.is_file():
            self._say(f"{t('There is no file')} {path}.", error=True)
            return
        key = str(self.query_one("#kind", Select).value)
        rows = count_rows(path)
        question = (
            f"{t('Import')} {rows:,} {t('rows of')} {path.name} {t('into')} {self.group_code}?"
        )
        detail = (
            f"{t(KINDS[key].title)}\n"
            + t("All rows or none: the first bad row is named, and then nothing is written.")
            + "\n"
            + t("Rows already in the book are left as they are.")
        )
        self.app.push_screen(
            Confirm(question, detail, yes="Yes, import it"),
            lambda yes: self._begin(key, path, rows) if yes else None,
        )

    def _begin(self, key: str, path: Path, rows: int) -> None:
        book = self.sansam.signed
        assert book is not None
        self.busy = True
        bar = self.query_one("#import-progress", ProgressBar)
        bar.update(total=rows or None, progress=0)
        bar.display = True
        self._say(f"{t('Importing')} {path.name}…")
        self._import(book, key, path)

    @work(thread=True, exclusive=True, group="import")
    def _import(self, book: Book, key: str, path: Path) -> None:
        """In a thread: the whole file in one transaction; the UI hears back through
        ``call_from_thread`` only."""
        kind, group_id, today = KINDS[key], self.group_id, self.sansam.today
        call = self.app.call_from_thread

        def moved(done: int) -> None:
            call(self._show_progress, done)

        try:
            summary = book.write(lambda s: kind.run(s, group_id, path, today, moved))
        except ImportRejected as exc:  # its sentence already ends "Nothing was imported."
            call(self._finished, str(exc), True)
            return
        except LedgerError as exc:
            call(self._finished, f"{t('Nothing was imported')}: {exc}", True)
            return
        call(self._finished, f"{t('Imported')} {path.name}. {kind.done(summary)}", False)

    def _show_progress(self, done: int) -> None:
        if self.is_attached:
            self.query_one("#import-progress", ProgressBar).update(progress=done)

    def _finished(self, message: str, error: bool) -> None:
        self.busy = False
        if not self.is_attached:  # the treasurer went back meanwhile: still tell her
            self.app.notify(
                message, severity="error" if error else "information", timeout=15, markup=False
            )
            return
        bar = self.query_one("#import-progress", ProgressBar)
        if error:
            bar.display = False
        elif bar.total is not None:
            bar.update(progress=bar.total)
        self._say(message, error=error)
        self._list_files()

    def _say(self, message: str, *, error: bool = False) -> None:
        status = self.query_one("#import-status", Static)
        status.update(message)
        status.set_class(error, "error")
