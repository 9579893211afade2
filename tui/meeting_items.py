"""The meeting's group items: money that moves for the group rather than in one member's
row of the sheet — a grant received, an expense paid, cash taken to or brought from the
bank, a social fund payout, a member leaving with everything she holds, a correction.

Like the rows, items are part of the open meeting's draft (``ledger.meetings.add_item``):
nothing is posted until the meeting is closed, and each one changes the expected cash
box at once. The form shows only the fields an item of that kind takes, and the ledger's
refusals ("the social fund has 20,000 KHR") appear under it with what was typed kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, DataTable, Input, Label, Select, Static

from ledger.errors import LedgerError
from ledger.meetings import (
    ITEM_LABELS,
    ITEM_TAKES,
    SheetItem,
    add_item,
    meeting_summary,
    remove_item,
)
from ledger.money import from_minor
from tui.common import Confirm, amount_text, read_amount, signed_text
from tui.words import t

if TYPE_CHECKING:
    from tui.app import SansamApp

HINTS = {
    "member_exit": "She is paid out all she holds (savings and shares), worked out at closing.",
    "reversal": "Type the number of the journal entry to correct; it is reversed at closing.",
    "social_fund_payout": "Paid from the social fund to the member named.",
}


class MeetingItemsScreen(ModalScreen[bool]):
    """The open meeting's group items: a list, and a form to add one. Delete removes the
    item under the cursor. Dismissed with whether anything changed, so the sheet knows to
    work out its expected cash again."""

    BINDINGS = [
        Binding("escape", "done", "Back to the sheet"),
        Binding("delete", "remove", "Remove the item"),
    ]
    DEFAULT_CSS = """
    MeetingItemsScreen { align: center middle; }
    MeetingItemsScreen #dialog { width: 90; }
    MeetingItemsScreen .field { height: 1; }
    MeetingItemsScreen .field Label { width: 16; }
    MeetingItemsScreen .field Input, MeetingItemsScreen .field Select { width: 1fr; }
    MeetingItemsScreen #item-hint, MeetingItemsScreen #item-error { height: auto; }
    MeetingItemsScreen Input:disabled { background: $surface; }
    """

    def __init__(
        self, meeting_id: int, currency: str, members: dict[str, str], *, read_only: bool
    ) -> None:
        super().__init__()
        self.meeting_id, self.currency = meeting_id, currency
        self.members, self.read_only = members, read_only
        self.changed = False
        self.items: tuple[SheetItem, ...] = ()

    @property
    def sansam(self) -> SansamApp:
        return cast("SansamApp", self.app)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(t("The group's items at this meeting"), id="question")
            table: DataTable[str] = DataTable(id="items", cursor_type="row")
            table.add_columns("What", "Member", f"Cash ({self.currency})", "Note")
            yield table
            if not self.read_only:
                yield from self._compose_form()
            with Horizontal(id="buttons"):
                if not self.read_only:
                    yield Button(t("Add"), variant="primary", id="add", compact=True)
                yield Button(f"{t('Back to the sheet')} (Esc)", id="done", compact=True)

    def _compose_form(self) -> ComposeResult:
        with Horizontal(classes="field"):
            yield Label(t("Kind"))
            yield Select(
                [(t(label), kind) for kind, label in ITEM_LABELS.items()],
                value="grant",
                allow_blank=False,
                id="kind",
                compact=True,
            )
        with Horizontal(classes="field"):
            yield Label(t("Member code"))
            yield Input(
                id="item-member",
                suggester=SuggestFromList(list(self.members), case_sensitive=False),
                compact=True,
            )
        with Horizontal(classes="field"):
            yield Label(f"{t('Amount')} ({self.currency})")
            yield Input(id="item-amount", compact=True)
        with Horizontal(classes="field"):
            yield Label(t("Entry number"))
            yield Input(id="item-entry", compact=True)
        with Horizontal(classes="field"):
            yield Label(t("Note"))
            yield Input(id="item-memo", max_length=500, compact=True)
        yield Static("", id="item-hint", classes="hint", markup=False)
        yield Static("", id="item-error", classes="error", markup=False)

    def on_mount(self) -> None:
        self._reload()
        if not self.read_only:
            self._show_fields("grant")
            self.query_one("#kind", Select).focus()

    # --- the list --------------------------------------------------------------------------

    def _reload(self) -> None:
        book = self.sansam.signed
        assert book is not None
        with book.read() as session:
            self.items = meeting_summary(session, self.meeting_id).items
        table = self.query_one("#items", DataTable)
        table.clear()
        for item in self.items:
            note = item.memo if item.reverses_seq is None else f"#{item.reverses_seq} {item.memo}"
            table.add_row(
                t(ITEM_LABELS[item.kind]),
                item.member_code or "",
                signed_text(item.cash_delta, self.currency),
                note,
                key=str(item.id),
            )
        if not self.items:
            table.add_row(t("(none yet)"), "", "", "")

    # --- the form --------------------------------------------------------------------------

    def on_select_changed(self, event: Select.Changed) -> None:
        self._show_fields(str(event.value))

    def _show_fields(self, kind: str) -> None:
        member, amount, entry = ITEM_TAKES[kind]
        for field, wanted in (("member", member), ("amount", amount), ("entry", entry)):
            box = self.query_one(f"#item-{field}", Input)
            box.disabled = not wanted
            if not wanted:
                box.value = ""
        self.query_one("#item-hint", Static).update(t(HINTS[kind]) if kind in HINTS else "")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves to the next field that applies; on the note it adds the item."""
        if event.input.id == "item-memo":
            self.add()
            return
        order = ["item-member", "item-amount", "item-entry", "item-memo"]
        for name in order[order.index(event.input.id or "item-member") + 1 :]:
            box = self.query_one(f"#{name}", Input)
            if not box.disabled:
                box.focus()
                return

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "add":
            self.add()
        else:
            self.action_done()

    def error(self, text: str, field: str | None = None) -> None:
        """Show why the item was not added; the cursor goes to the field at fault."""
        self.query_one("#item-error", Static).update(text)
        if field is not None:
            self.query_one(f"#item-{field}", Input).focus()

    def _member_code(self) -> str | None:
        typed = self.query_one("#item-member", Input).value.strip()
        for code in self.members:
            if code.casefold() == typed.casefold():
                return code
        return typed or None

    def add(self) -> None:
        """Check the fields, then add the item to the draft (nothing is posted)."""
        kind = str(self.query_one("#kind", Select).value)
        wants_member, wants_amount, wants_entry = ITEM_TAKES[kind]
        label = t(ITEM_LABELS[kind])
        code = self._member_code() if wants_member else None
        if wants_member and code is None:
            self.error(
                f"{label}: " + t("type the member's code, as on the member's card."), "member"
            )
            return
        money = None
        entry: int | None = None
        field = "amount"
        try:
            if wants_amount:
                typed = self.query_one("#item-amount", Input).value
                minor = read_amount(typed, self.currency, allow_empty=False)
                money = from_minor(minor, self.currency)
            field = "entry"
            if wants_entry:
                entry = _entry_number(self.query_one("#item-entry", Input).value)
        except LedgerError as exc:
            self.error(str(exc), field)
            return
        memo = self.query_one("#item-memo", Input).value
        book = self.sansam.signed
        assert book is not None
        try:
            book.write(
                lambda s: add_item(
                    s, self.meeting_id, kind, money, member_code=code, memo=memo, entry_seq=entry
                )
            )
        except LedgerError as exc:
            self.error(f"{t('Not added')}: {exc}")
            return
        self.changed = True
        self.error("")
        for name in ("item-member", "item-amount", "item-entry", "item-memo"):
            self.query_one(f"#{name}", Input).value = ""
        self._reload()
        self.notify(f"{label} {t('is on the sheet; it is posted when the meeting closes.')}")
        self.query_one("#kind", Select).focus()

    def action_remove(self) -> None:
        if self.read_only or not self.items:
            return
        table = self.query_one("#items", DataTable)
        item = self.items[table.cursor_row] if table.cursor_row < len(self.items) else None
        if item is None:
            return
        amount = amount_text(item.cash_delta, self.currency)
        question = f"{t('Remove')} {t(ITEM_LABELS[item.kind])} {item.member_code or ''} {amount}?"
        self.app.push_screen(
            Confirm(question, t("It was not posted yet; nothing else changes."), yes="Remove it"),
            lambda yes: self._remove(item.id) if yes else None,
        )

    def _remove(self, item_id: int) -> None:
        book = self.sansam.signed
        assert book is not None
        try:
            book.write(lambda s: remove_item(s, self.meeting_id, item_id))
        except LedgerError as exc:
            self.error(f"{t('Not removed')}: {exc}")
            return
        self.changed = True
        self._reload()

    def action_done(self) -> None:
        self.dismiss(self.changed)


def _entry_number(typed: str) -> int:
    cleaned = typed.strip().lstrip("#")
    if not cleaned.isdigit():
        raise LedgerError(t("Type the journal entry's number, e.g. 1234."))
    return int(cleaned)
