"""Printing a group's papers: a member's statement (or every member's, in one PDF), the
group report and the portfolio report, for a period, in Khmer and/or English, on A4 or A5.

The treasurer fills in a short form (everything has a sensible default: the current
cycle up to today, both languages, A4, the Documents/Sansam folder and a file name that
says what the file holds), then saves the PDF, or prints it where a printer command is
configured. The work runs in a worker with a progress bar (a batch of statements moves
it once per statement) and the screen says where the file went. The writing itself is
``tui.printing``'s, which is the command line's: whole file or nothing, and every print
kept in the audit trail.
"""

from __future__ import annotations

from typing import cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import (
    Button,
    Checkbox,
    Footer,
    Header,
    Input,
    Label,
    ProgressBar,
    Select,
    Static,
)

from ledger.db import Book
from ledger.errors import LedgerError
from ledger.groups import get_group
from ledger.members import list_members
from reports.options import Lang
from tui.common import GroupScreen, read_date
from tui.printing import (
    DOCUMENTS,
    PrintRequest,
    Written,
    default_file_name,
    default_folder,
    default_period,
    how_to_configure,
    output_path,
    print_command,
    send_to_printer,
    write_document,
)
from tui.words import t

LANGUAGES = (("Khmer and English", "both"), ("Khmer", "km"), ("English", "en"))
PAPER = (("A4", "A4"), ("A5", "A5"))


class ReportsScreen(GroupScreen):
    AUTO_FOCUS = "#kind"  # start on the first choice, not on the scrolling form
    BINDINGS = [
        Binding("ctrl+s", "save", "Save the PDF"),
        Binding("ctrl+o", "print", "Print on the printer"),
        Binding("escape", "back", "Back to the dashboard"),
    ]

    DEFAULT_CSS = """
    ReportsScreen #print-form {
        height: 1fr;
        padding: 1 1 0 1;
    }
    ReportsScreen .row {
        height: auto;
        margin-bottom: 1;
    }
    ReportsScreen .row Label {
        width: 12;
        padding-right: 1;
    }
    ReportsScreen .row Label.between {
        width: auto;
        padding: 0 1;
    }
    ReportsScreen #kind, ReportsScreen #member {
        width: 60;
    }
    ReportsScreen #start, ReportsScreen #end {
        width: 14;
    }
    ReportsScreen #lang {
        width: 24;
    }
    ReportsScreen #size {
        width: 10;
    }
    ReportsScreen #folder, ReportsScreen #name {
        width: 1fr;
    }
    ReportsScreen #actions Button {
        margin-right: 2;
    }
    ReportsScreen #progress {
        height: 1;
        margin-bottom: 1;
    }
    ReportsScreen #status {
        height: auto;
        padding: 0 1;
    }
    ReportsScreen #printer {
        margin-top: 1;
        padding: 0;
    }
    """

    def __init__(self, group_id: int) -> None:
        super().__init__(group_id)
        self.group_code = ""
        self._auto_name = ""  # the file name we filled in (kept up to date until edited)
        self._busy = False

    # --- the form ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="title", classes="title")
        with VerticalScroll(id="print-form"):
            with Horizontal(classes="row"):
                yield Label(t("Document"))
                yield Select(
                    [(t(words), key) for key, words in DOCUMENTS.items()],
                    value="statement",
                    allow_blank=False,
                    id="kind",
                    compact=True,
                )
            with Horizontal(classes="row", id="member-row"):
                yield Label(t("Member"))
                yield Select([], prompt=t("Choose the member"), id="member", compact=True)
            with Horizontal(classes="row"):
                yield Label(t("Period"), id="period-label")
                yield Input(placeholder="YYYY-MM-DD", id="start", compact=True)
                yield Label(t("to"), classes="between")
                yield Input(placeholder="YYYY-MM-DD", id="end", compact=True)
            with Horizontal(classes="row"):
                yield Label(t("Language"))
                yield Select(
                    [(t(words), code) for words, code in LANGUAGES],
                    value="both",
                    allow_blank=False,
                    id="lang",
                    compact=True,
                )
                yield Label(t("Paper"), classes="between")
                yield Select(PAPER, value="A4", allow_blank=False, id="size", compact=True)
                yield Checkbox(t("Khmer digits"), id="digits", compact=True)
            with Horizontal(classes="row"):
                yield Label(t("Folder"))
                yield Input(str(default_folder()), id="folder", compact=True)
            with Horizontal(classes="row"):
                yield Label(t("File name"))
                yield Input(id="name", compact=True)
            with Horizontal(classes="row", id="actions"):
                yield Button(f"{t('Save the PDF')} (Ctrl+S)", id="save", variant="primary")
                yield Button(f"{t('Print')} (Ctrl+O)", id="print")
            yield ProgressBar(id="progress", show_eta=False)
            yield Static("", id="status", markup=False)
            yield Static("", id="printer", classes="hint", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        book = self.sansam.signed
        assert book is not None
        with book.read() as session:
            group = get_group(session, self.group_id)
            members = list_members(session, self.group_id)
            start, end = default_period(session, self.group_id, self.sansam.today)
        self.group_code = group.code
        self.query_one("#title", Static).update(f"{t('Print')} · {group.code} · {group.name}")
        member = self.query_one("#member", Select)
        member.set_options((f"{m.code}  {m.name_latin}", m.code) for m in members)
        if members:
            member.value = members[0].code
        self.query_one("#start", Input).value = start.isoformat()
        self.query_one("#end", Input).value = end.isoformat()
        self.query_one("#progress", ProgressBar).display = False
        self._show_printer()
        self._refresh_name()

    def _show_printer(self) -> None:
        command = print_command()
        self.query_one("#print", Button).disabled = command is None
        hint = (
            how_to_configure()
            if command is None
            else t("Print sends the PDF to:") + f" {' '.join(command)}"
        )
        self.query_one("#printer", Static).update(hint)

    @on(Select.Changed, "#kind")
    def _kind_changed(self) -> None:
        kind = self._kind()
        self.query_one("#member-row").display = kind == "statement"
        portfolio = kind == "portfolio"
        self.query_one("#start", Input).disabled = portfolio
        self.query_one("#period-label", Label).update(t("As of") if portfolio else t("Period"))
        self._refresh_name()

    @on(Select.Changed, "#member")
    @on(Input.Changed, "#end")
    def _refresh_name(self) -> None:
        """Fill in the file name from the form, unless the user has typed their own."""
        try:
            end = read_date(self.query_one("#end", Input).value)
        except LedgerError:
            return
        member = self.query_one("#member", Select).value
        code = member if isinstance(member, str) else None
        name = default_file_name(self._kind(), self.group_code, code, end)
        field = self.query_one("#name", Input)
        if field.value in ("", self._auto_name):
            field.value = name
        self._auto_name = name

    def _kind(self) -> str:
        return str(self.query_one("#kind", Select).value)

    def _request(self) -> PrintRequest:
        """The form as a request; a bad field is refused with a sentence, before any work."""
        kind = self._kind()
        end = read_date(self.query_one("#end", Input).value)
        start = end if kind == "portfolio" else read_date(self.query_one("#start", Input).value)
        member = self.query_one("#member", Select).value
        if kind == "statement" and not isinstance(member, str):
            raise LedgerError(t("Choose the member whose statement to print."))
        if end < start:
            raise LedgerError(t("The period ends before it starts:") + f" {start} – {end}.")
        return PrintRequest(
            kind=kind,
            group_id=self.group_id,
            member_code=member if isinstance(member, str) else None,
            start=start,
            end=end,
            lang=cast("Lang", self.query_one("#lang", Select).value),
            size=str(self.query_one("#size", Select).value),
            khmer_digits=self.query_one("#digits", Checkbox).value,
            path=output_path(
                self.query_one("#folder", Input).value, self.query_one("#name", Input).value
            ),
        )

    # --- actions -----------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        elif event.button.id == "print":
            self.action_print()

    def action_save(self) -> None:
        self._start(then_print=False)

    def action_print(self) -> None:
        if print_command() is None:
            self._say(how_to_configure(), error=True)
            return
        self._start(then_print=True)

    def _start(self, *, then_print: bool) -> None:
        if self._busy:
            self.notify(t("A PDF is being written; wait for it to finish."))
            return
        try:
            request = self._request()
        except LedgerError as exc:
            self._say(str(exc), error=True)
            return
        book = self.sansam.signed
        assert book is not None
        self._busy = True
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        self._say(t("Writing the PDF…"))
        self._write(book, request, then_print)

    @work(thread=True, exclusive=True, group="print")
    def _write(self, book: Book, request: PrintRequest, then_print: bool) -> None:
        """In a thread: write the PDF (and send it to the printer); the UI only hears
        back through ``call_from_thread``."""
        call = self.app.call_from_thread
        try:
            written = write_document(book, request, self._progress)
        except LedgerError as exc:
            call(self._finished, str(exc), True)
            return
        saved = self._saved_text(written)
        if not then_print:
            call(self._finished, saved, False)
            return
        call(self._say, saved + "\n" + t("Sending it to the printer…"))
        try:
            sent = send_to_printer(written.path)
        except LedgerError as exc:
            call(self._finished, saved + "\n" + str(exc), True)
            return
        call(self._finished, saved + "\n" + sent, False)

    def _progress(self, done: int, total: int) -> None:
        """Called in the worker thread: the bar moves in the UI's."""
        self.app.call_from_thread(self._show_progress, done, total)

    def _show_progress(self, done: int, total: int) -> None:
        if self.is_attached:
            self.query_one("#progress", ProgressBar).update(total=total, progress=done)

    @staticmethod
    def _saved_text(written: Written) -> str:
        return f"{t('Saved')}: {written.path}\n({written.what})"

    def _finished(self, message: str, error: bool) -> None:
        self._busy = False
        if not self.is_attached:  # the user went back while it was written: still say it
            self.app.notify(
                message, severity="error" if error else "information", timeout=15, markup=False
            )
            return
        self.query_one("#progress", ProgressBar).display = not error
        self._say(message, error=error)

    def _say(self, message: str, *, error: bool = False) -> None:
        if not self.is_attached:
            return
        status = self.query_one("#status", Static)
        status.update(message)
        status.set_class(error, "error")
