"""The meeting screen: the collection sheet on screen, the heart of the app.

One row per member, like the paper sheet: attendance, savings, shares, social fund,
fine, and the loan repayment beside what is due. The treasurer types amounts ("5000",
"5,000"); Enter moves on. A refused amount is marked in its cell with the reason, and
the totals and the expected cash box follow every keystroke.

Every row the treasurer leaves is saved to the open meeting's draft in the book (nothing
is posted), so if the app or the PC dies the sheet is there again on restart. F2 counts
the cash and closes: the whole sheet is posted at once, and the meeting becomes
read-only.
"""

from __future__ import annotations

from typing import cast

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Static

from ledger.collection_sheet import collection_sheet
from ledger.errors import LedgerError
from ledger.loans import set_member_repayment
from ledger.meetings import (
    ITEM_LABELS,
    MeetingRecord,
    MeetingSummary,
    clear_line,
    close_meeting,
    find_meeting,
    get_meeting,
    meeting_summary,
    open_meeting,
    set_line,
)
from ledger.models import Meeting
from ledger.money import from_minor
from ledger.queries import open_meeting_of
from tui.common import (
    Confirm,
    GroupScreen,
    amount_text,
    attempt,
    money_text,
    read_amount,
    read_date,
    signed_text,
)
from tui.meeting_items import MeetingItemsScreen
from tui.sheet_rows import (
    HEADERS,
    NARROW_FIELDS,
    WIDE_FIELDS,
    SheetRow,
    cash_base,
    totals,
)
from tui.words import t

WIDE_AT = 110  # columns of terminal from which voluntary savings and withdrawals show
RECENT_MEETINGS = 30


class AttendanceCell(Static, can_focus=True):
    """Present (✓), absent (✗) or not marked (·). Space toggles; P or Y present, A or N
    absent; Enter marks present (if not marked) and moves on. Typing an amount straight
    away marks present and goes into the savings cell."""

    BINDINGS = [
        Binding("space", "toggle", "Present/absent", show=False),
        Binding("p,y", "mark(True)", "Present", show=False),
        Binding("a,n", "mark(False)", "Absent", show=False),
        Binding("enter", "next", "Next", show=False),
    ]

    class Marked(Message):
        def __init__(self, cell: AttendanceCell) -> None:
            super().__init__()
            self.cell = cell

    def __init__(self, row: SheetRow, *, index: int, disabled: bool) -> None:
        super().__init__("", classes="att", id=f"att-{index}", disabled=disabled)
        self.row, self.index = row, index
        self.show()

    def show(self) -> None:
        self.update({True: "✓", False: "✗", None: "·"}[self.row.attended], layout=False)

    def action_toggle(self) -> None:
        self.action_mark(not self.row.attended)

    def action_mark(self, present: bool) -> None:
        self.row.attended = present
        self.row.saved = False
        self.show()
        self.post_message(self.Marked(self))

    def action_next(self) -> Widget | None:
        if self.row.attended is None:
            self.action_mark(True)
        return cast(MeetingScreen, self.screen).move_on(self)

    def on_key(self, event: events.Key) -> None:
        if event.character and event.character in "0123456789០១២៣៤៥៦៧៨៩":
            event.stop()
            target = self.action_next()
            if isinstance(target, Input):
                # Queued behind the cell's focus event (which selects all it holds), so
                # the digit replaces the old amount and the next keys follow it.
                target.call_later(target.insert_text_at_cursor, event.character)


class AmountCell(Input):
    """One amount of one member's row."""

    def __init__(self, row: SheetRow, column: str, *, index: int, currency: str, **kw: object):
        value = row.value(column)
        super().__init__(
            value=amount_text(value, currency) if value else "",
            id=f"c-{index}-{column}",
            classes="num",
            **kw,  # type: ignore[arg-type]
        )
        self.row, self.column, self.index = row, column, index

    async def action_submit(self) -> None:
        # Move on at once, inside this key's handling: the next key typed goes to the
        # next cell even when the treasurer types fast.
        screen = cast(MeetingScreen, self.screen)
        if screen.save_cell(self):
            screen.move_on(self)


# Every keystroke updates the totals and the cash line: those widgets have fixed sizes
# and are updated with layout=False, so typing redraws them without laying out the whole
# sheet again (a full layout per key cost ~20 ms with 20 members on the development PC).


class MeetingScreen(GroupScreen):
    BINDINGS = [
        Binding("f2", "close_meeting", "Count cash & close"),
        Binding("ctrl+o", "open_meeting", "Open the meeting"),
        Binding("f3", "group_items", "Group items"),
        Binding("up", "row(-1)", "Row above", show=False),
        Binding("down", "row(1)", "Row below", show=False),
        Binding("escape", "back", "Back"),
    ]

    DEFAULT_CSS = """
    #start { height: auto; padding: 1; }
    #start Input { width: 20; }
    #meetings { height: 1fr; }
    """

    def __init__(self, group_id: int, meeting_id: int | None = None) -> None:
        super().__init__(group_id)
        self.meeting_id = meeting_id
        self.rows: list[SheetRow] = []
        self.current_row: int | None = None
        self.last_cell: dict[int, str] = {}  # row -> the column edited last

    # --- reading ---------------------------------------------------------------------------

    def _load(self) -> None:
        book = self.sansam.signed
        assert book is not None
        with book.read() as session:
            record: MeetingRecord | None = None
            if self.meeting_id is not None:
                record = get_meeting(session, self.meeting_id)
            else:
                draft = open_meeting_of(session, self.group_id)
                if draft is not None:
                    record = find_meeting(session, self.group_id, draft[1])
            self.record = record
            if record is None:
                self.recent = session.execute(
                    Meeting.__table__.select()
                    .where(Meeting.group_id == self.group_id)
                    .order_by(Meeting.number.desc())
                    .limit(RECENT_MEETINGS)
                ).all()
                return
            summary = meeting_summary(session, record.id)
            sheet = collection_sheet(session, self.group_id, record.meeting_date)
        self.summary: MeetingSummary = summary
        self.currency = summary.currency
        self.group_code = sheet.group.code
        lines = {line.member_code: line for line in summary.lines}
        repaid: dict[str, int] = {}
        for r in summary.repayments:
            repaid[r.member_code] = repaid.get(r.member_code, 0) + r.amount
        rows = [SheetRow.of(row) for row in sheet.rows]
        known = {r.code for r in rows}
        for line in summary.lines:  # a member who left at this meeting is still on its sheet
            if line.member_code not in known:
                rows.append(SheetRow(line.member_code, line.member_name, 0, False, False))
        for row in rows:
            row.load(lines.get(row.code), repaid.get(row.code, 0))
        self.rows = rows
        self.base = cash_base(summary)

    @property
    def read_only(self) -> bool:
        return self.record is not None and self.record.status != "open"

    # --- drawing ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        self._load()
        yield Header()
        yield Static(self._title(), id="title", classes="title")
        if self.record is None:
            yield from self._compose_start()
        else:
            yield from self._compose_sheet()
        yield Footer()

    def _title(self) -> str:
        if self.record is None:
            return t("No meeting is open")
        r = self.record
        state = (
            t("open: a draft, nothing posted yet") if r.status == "open" else t("closed, read-only")
        )
        return f"{t('Meeting')} #{r.number} · {r.meeting_date.isoformat()} · {state}"

    def _compose_start(self) -> ComposeResult:
        with Vertical(id="start"):
            yield Label(t("Date of the meeting (YYYY-MM-DD)"))
            yield Input(self.sansam.today.isoformat(), id="meeting-date")
            yield Button(t("Open the meeting") + " (Ctrl+O)", variant="primary", id="open")
        yield Static(t("Meetings held (Enter shows one, read-only)"), classes="hint")
        table: DataTable[str] = DataTable(id="meetings", cursor_type="row")
        table.add_columns("#", "Date", "Status", "Expected cash", "Counted", "Difference")
        for m in self.recent:
            diff = None if m.counted_cash is None else m.counted_cash - (m.expected_cash or 0)
            table.add_row(
                str(m.number),
                m.meeting_date.isoformat(),
                m.status,
                "-" if m.expected_cash is None else f"{m.expected_cash:,}",
                "-" if m.counted_cash is None else f"{m.counted_cash:,}",
                "-" if diff is None else f"{diff:,}",
                key=str(m.id),
            )
        yield table

    def _columns(self) -> tuple[str, ...]:
        return WIDE_FIELDS if self.app.size.width >= WIDE_AT else NARROW_FIELDS

    def _compose_sheet(self) -> ComposeResult:
        columns = self._columns()
        self.columns = columns
        with Horizontal(classes="sheet-row header"):
            yield Static("Code", classes="code")
            yield Static("Name", classes="name")
            yield Static("Att", classes="att")
            for c in columns:
                if c == "repay":
                    yield Static("Due", classes="due")
                yield Static(HEADERS[c], classes="num")
        with VerticalScroll(id="sheet"):
            for i, row in enumerate(self.rows):
                yield self._row(i, row, columns)
        with Horizontal(classes="sheet-row total", id="totals"):
            yield Static(t("Total"), classes="code")
            yield Static("", classes="name", id="present")
            yield Static("", classes="att")
            for c in columns:
                if c == "repay":
                    yield Static("", classes="due", id="t-due")
                yield Static("", classes="num", id=f"t-{c}")
        yield Static("", id="row-error")
        yield Static("", id="meeting-bar")

    def _row(self, i: int, row: SheetRow, columns: tuple[str, ...]) -> Widget:
        cells: list[Widget] = [
            Static(row.code, classes="code"),
            Static(row.name, classes="name"),
            AttendanceCell(row, index=i, disabled=self.read_only),
        ]
        for c in columns:
            if c == "repay":
                due = Static(amount_text(row.due, self.currency) if row.due else "", classes="due")
                if row.overdue:
                    due.add_class("overdue")
                cells.append(due)
            cells.append(
                AmountCell(
                    row,
                    c,
                    index=i,
                    currency=self.currency,
                    disabled=self.read_only or (c == "repay" and not row.has_loan),
                    select_on_focus=True,
                )
            )
        return Horizontal(*cells, classes="sheet-row", id=f"row-{i}")

    def on_mount(self) -> None:
        if self.record is None:
            self.query_one("#meeting-date", Input).focus()
            return
        self._show_totals()
        if not self.read_only and self.rows:
            self.query_one("#att-0").focus()

    def _show_totals(self) -> None:
        sums = totals(self.rows, self.columns, self.base)
        c = self.currency
        for column, value in sums.columns.items():
            self.query_one(f"#t-{column}", Static).update(amount_text(value, c), layout=False)
        if "repay" in self.columns:
            due = sum(r.due for r in self.rows)
            self.query_one("#t-due", Static).update(amount_text(due, c), layout=False)
        present = f"{sums.present}/{len(self.rows)} {t('present')}"
        self.query_one("#present", Static).update(present, layout=False)
        bar = [
            f"{t('Opening cash')} {money_text(self.summary.meeting.opening_cash, c)}",
            f"{t('In')} {signed_text(sums.cash_in, c)}",
            f"{t('Out')} {signed_text(-sums.cash_out, c)}",
        ]
        other = self.base - self.summary.meeting.opening_cash
        if other:
            bar.append(f"{t('Items and loans')} {signed_text(other, c)}")
        bar.append(f"[b]{t('Expected cash')} {money_text(sums.expected_cash, c)}[/]")
        if self.read_only and self.record is not None and self.record.counted_cash is not None:
            bar.append(f"{t('Counted cash')} {money_text(self.record.counted_cash, c)}")
        self.query_one("#meeting-bar", Static).update("  ·  ".join(bar), layout=False)

    # --- typing ----------------------------------------------------------------------------

    def on_input_changed(self, event: Input.Changed) -> None:
        cell = event.input
        if not isinstance(cell, AmountCell) or self.read_only:
            return
        shown = cell.row.value(cell.column)
        if cell.value == (amount_text(shown, self.currency) if shown else ""):
            if cell.column in cell.row.invalid:
                self._mark(cell, None)  # typed back to what the row holds
            return  # the value as loaded or as saved: nothing changed
        try:
            minor = read_amount(cell.value, self.currency)
            problem = cell.row.set(cell.column, minor)
        except LedgerError as exc:
            problem = str(exc)
        self.last_cell[cell.index] = cell.column
        cell.row.saved = False
        self._mark(cell, problem)
        self._show_totals()

    def _mark(self, cell: AmountCell, problem: str | None) -> None:
        row = cell.row
        if problem:
            row.invalid[cell.column] = problem
            cell.add_class("-invalid")
            cell.tooltip = problem
            self.query_one("#row-error", Static).update(
                f"✗ {row.code} {HEADERS[cell.column]}: {problem}", layout=False
            )
        else:
            row.invalid.pop(cell.column, None)
            cell.remove_class("-invalid")
            cell.tooltip = None
            if not any(r.invalid for r in self.rows):
                self.query_one("#row-error", Static).update("", layout=False)
        self.query_one(f"#att-{cell.index}", AttendanceCell).show()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "meeting-date":
            self.action_open_meeting()

    def on_attendance_cell_marked(self, event: AttendanceCell.Marked) -> None:
        self._show_totals()

    def save_cell(self, cell: AmountCell) -> bool:
        """Enter in a cell: keep the row in the draft; show the amount as "5,000"."""
        if not self._save(cell.index) or cell.row.invalid:
            return False
        value = cell.row.value(cell.column)
        cell.value = amount_text(value, self.currency) if value else ""
        return True

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        index = getattr(event.widget, "index", None)
        if index is not None and index != self.current_row and self.current_row is not None:
            self._save(self.current_row)  # the treasurer left a row: keep it in the draft
        if index is not None:
            self.current_row = index

    def _cells(self, index: int) -> list[Widget]:
        row = self.query_one(f"#row-{index}")
        return [w for w in row.children if w.can_focus and not w.disabled]

    def move_on(self, cell: Widget) -> Widget | None:
        """Enter moves right along the row, then to the start of the next row (focus is
        set at once, not later, so fast typing lands in the right cell). Returns the
        cell it moved to."""
        index = getattr(cell, "index", 0)
        cells = self._cells(index)
        position = cells.index(cell) + 1
        target: Widget | None = None
        if position < len(cells):
            target = cells[position]
        elif index + 1 < len(self.rows):
            self._save(index)
            target = self._cells(index + 1)[0]
            self.query_one(f"#row-{index + 1}").scroll_visible()
        if target is not None:
            self.set_focus(target)
        return target

    def action_row(self, step: int) -> None:
        focused = self.focused
        index = getattr(focused, "index", None)
        if index is None or not 0 <= index + step < len(self.rows):
            return
        column = getattr(focused, "column", None)
        target = (
            self.query_one(f"#att-{index + step}")
            if column is None
            else self.query(f"#c-{index + step}-{column}").first()
        )
        if not target.disabled:
            self.set_focus(target)
            target.scroll_visible()

    # --- saving the draft ------------------------------------------------------------------

    def _save(self, index: int) -> bool:
        """Write one row to the open meeting's draft (not a posting); a refusal marks the
        cell last typed in, with the ledger's reason."""
        row = self.rows[index]
        if row.saved or self.read_only or self.record is None:
            return True
        if row.invalid:
            return False
        book = self.sansam.signed
        assert book is not None
        meeting_id, currency = self.record.id, self.currency

        def work(session):  # type: ignore[no-untyped-def]
            if row.empty:
                clear_line(session, meeting_id, row.code)
            else:
                set_line(
                    session,
                    meeting_id,
                    row.code,
                    attended=row.attended is not False,
                    **{f: from_minor(v, currency) for f, v in row.amounts.items()},
                )
            if row.has_loan:
                set_member_repayment(session, meeting_id, row.code, from_minor(row.repay, currency))

        try:
            book.write(work)
        except LedgerError as exc:
            column = self.last_cell.get(index, "savings")
            cells = self.query(f"#c-{index}-{column}")
            if cells:
                self._mark(cast(AmountCell, cells.first()), str(exc))
            else:
                self.query_one("#row-error", Static).update(f"✗ {row.code}: {exc}", layout=False)
            return False
        row.saved = True
        return True

    # --- the group's items ------------------------------------------------------------------

    def action_group_items(self) -> None:
        """F3: grants, expenses, bank trips, social fund payouts, a member leaving."""
        if self.record is None:
            return
        if self.current_row is not None:
            self._save(self.current_row)
        members = {r.code: r.name for r in self.rows}
        screen = MeetingItemsScreen(
            self.record.id, self.currency, members, read_only=self.read_only
        )
        self.app.push_screen(screen, self._items_changed)

    def _items_changed(self, changed: bool | None) -> None:
        if changed:
            self._refresh_base()
            self._show_totals()

    def _refresh_base(self) -> None:
        """Work out again what the sheet does not hold itself: the opening cash plus the
        group's items and the loans lent (a member leaving is paid what she holds, which
        depends on what she paid in at this very meeting)."""
        book = self.sansam.signed
        assert book is not None and self.record is not None
        with book.read() as session:
            self.summary = meeting_summary(session, self.record.id)
        self.base = cash_base(self.summary)

    # --- opening and closing ---------------------------------------------------------------

    def action_open_meeting(self) -> None:
        if self.record is not None:
            return
        day = attempt(self.sansam, lambda: read_date(self.query_one("#meeting-date", Input).value))
        if day is None:
            return
        book = self.sansam.signed
        assert book is not None
        today = self.sansam.today
        opened = attempt(
            self.sansam,
            lambda: book.write(lambda s: open_meeting(s, self.group_id, day, today=today)),
        )
        if opened is not None:
            self.app.switch_screen(MeetingScreen(self.group_id, opened.id))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "open":
            self.action_open_meeting()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        assert event.row_key.value is not None
        self.app.push_screen(MeetingScreen(self.group_id, int(event.row_key.value)))

    def action_close_meeting(self) -> None:
        if self.record is None or self.read_only:
            return
        for i in range(len(self.rows)):
            self._save(i)
        refused = [f"{r.code} {HEADERS[c]}" for r in self.rows for c in r.invalid]
        if refused:
            self.notify(
                t("Correct the cells marked in red first:") + " " + ", ".join(refused),
                title=t("Not closed"),
                severity="error",
                timeout=10,
            )
            return
        self._refresh_base()
        self._show_totals()
        expected = totals(self.rows, self.columns, self.base).expected_cash
        self.app.push_screen(CountCash(expected, self.currency), self._counted)

    def _counted(self, count: tuple[int, str] | None) -> None:
        if count is None:
            return
        counted, comment = count
        sums = totals(self.rows, self.columns, self.base)
        c = self.currency
        unmarked = [r.code for r in self.rows if r.attended is None]
        difference = counted - sums.expected_cash
        detail = [
            f"{t('Present')}: {sums.present} / {len(self.rows)}",
            f"{t('Paid in')}: {money_text(sums.cash_in, c)}   {t('Paid out')}: "
            f"{money_text(sums.cash_out, c)}",
            f"{t('Expected cash')}: {money_text(sums.expected_cash, c)}   "
            f"{t('Counted cash')}: {money_text(counted, c)}",
        ]
        for item in self.summary.items:
            who = f" {item.member_code}" if item.member_code else ""
            detail.append(
                f"{t(ITEM_LABELS[item.kind])}{who}: {signed_text(item.cash_delta, c)} {c}"
                + (f" ({item.memo})" if item.memo else "")
            )
        if difference:
            detail.append(f"{t('Difference')}: {signed_text(difference, c)} {c} — {comment}")
        if unmarked:
            detail.append(
                t("Attendance not marked (not counted present):") + " " + ", ".join(unmarked)
            )
        detail.append(t("Closing posts the whole sheet; it cannot be changed afterwards."))
        question = f"{t('Close meeting')} #{self.summary.meeting.number} {t('and post it?')}"

        def answer(yes: bool | None) -> None:
            if yes:
                self._close(counted, comment)

        self.app.push_screen(Confirm(question, "\n".join(detail)), answer)

    def _close(self, counted: int, comment: str) -> None:
        book = self.sansam.signed
        assert book is not None and self.record is not None
        meeting_id, money = self.record.id, from_minor(counted, self.currency)
        closed = attempt(
            self.sansam,
            lambda: book.write(
                lambda s: close_meeting(s, meeting_id, money, comment=comment or None)
            ),
        )
        if closed is None:
            return
        self.notify(
            f"{t('Meeting')} #{closed.meeting.number} {t('is closed and posted.')}",
            title=t("Done"),
        )
        self.app.switch_screen(MeetingScreen(self.group_id, meeting_id))

    def action_back(self) -> None:
        if self.current_row is not None:
            self._save(self.current_row)
        self.app.pop_screen()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Show only the keys that do something here (no closing a closed meeting)."""
        if action == "close_meeting":
            return self.record is not None and not self.read_only
        if action == "open_meeting":
            return self.record is None
        if action == "group_items":
            return self.record is not None
        return True


class CountCash(ModalScreen[tuple[int, str] | None]):
    """The cash count: what is in the box, and a comment when it differs from the sheet."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, expected: int, currency: str) -> None:
        super().__init__()
        self.expected, self.currency = expected, currency

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(f"{t('Expected cash')}: {money_text(self.expected, self.currency)}")
            yield Label(t("Count the cash box and type what is in it:"))
            yield Input(id="counted", placeholder="0")
            yield Static("", id="difference")
            yield Label(t("Comment (needed when the count differs)"))
            yield Input(id="comment", max_length=500)
            with Horizontal(id="buttons"):
                yield Button(t("Close the meeting"), variant="warning", id="close")
                yield Button(t("Cancel"), id="cancel")

    def on_mount(self) -> None:
        self.query_one("#counted", Input).focus()

    def _counted(self) -> int | None:
        try:
            return read_amount(
                self.query_one("#counted", Input).value, self.currency, allow_empty=False
            )
        except LedgerError as exc:
            self.query_one("#difference", Static).update(Text(f"✗ {exc}", style="bold red"))
            return None

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id != "counted":
            return
        counted = self._counted()
        if counted is None:
            return
        diff = counted - self.expected
        text = (
            t("The count matches the sheet.")
            if diff == 0
            else f"{t('Difference')}: {signed_text(diff, self.currency)} {self.currency} "
            + (t("(more than expected)") if diff > 0 else t("(less than expected)"))
        )
        self.query_one("#difference", Static).update(text)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "counted":
            self.query_one("#comment", Input).focus()
        else:
            self._finish()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "close":
            self._finish()
        else:
            self.dismiss(None)

    def _finish(self) -> None:
        counted = self._counted()
        if counted is None:
            return
        comment = self.query_one("#comment", Input).value.strip()
        if counted != self.expected and not comment:
            self.query_one("#difference", Static).update(
                Text(
                    t("The count differs from the sheet: write a comment saying why."),
                    style="bold red",
                )
            )
            self.query_one("#comment", Input).focus()
            return
        self.dismiss((counted, comment))

    def action_cancel(self) -> None:
        self.dismiss(None)
