"""What every screen of the app shares: amounts as typed and as shown, plain errors, and
the yes/no confirmation asked before anything is posted.

Screens stay thin over ``ledger`` services; this module holds the few helpers they would
otherwise each write again.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Label, Static

from ledger.csvfile import parse_date
from ledger.errors import InvalidAmount, InvalidDate, LedgerError
from ledger.money import commodity, latin_digits, parse_amount
from tui.words import t

if TYPE_CHECKING:
    from tui.app import SansamApp

T = TypeVar("T")
_DATE_SHAPE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")


def read_amount(text: str, currency: str, *, allow_empty: bool = True) -> int:
    """An amount as a treasurer types it: "5000", "5,000", "5 000" or in Khmer digits
    ("៥០០០"); empty is zero. Refused with a sentence saying what is wrong."""
    cleaned = latin_digits(text).replace(" ", "").replace("\u00a0", "")
    if not cleaned:
        if allow_empty:
            return 0
        raise InvalidAmount(t("Type an amount."))
    if cleaned.startswith("-"):
        raise InvalidAmount(t("An amount cannot be negative."))
    if cleaned.count(",") and not _well_grouped(cleaned):
        raise InvalidAmount(f"{text!r}: " + t("commas go between thousands, as in 5,000."))
    return parse_amount(cleaned, currency)


def _well_grouped(text: str) -> bool:
    whole = text.split(".", 1)[0]
    groups = whole.split(",")
    return 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])


def amount_text(minor: int, currency: str) -> str:
    """An amount for a table cell: thousands separated, no currency code (the column
    header says it), decimals only for currencies that have them."""
    exponent = commodity(currency).exponent
    if exponent == 0:
        return f"{minor:,}"
    whole, part = divmod(abs(minor), 10**exponent)
    sign = "-" if minor < 0 else ""
    return f"{sign}{whole:,}.{part:0{exponent}d}"


def signed_text(minor: int, currency: str) -> str:
    """A movement of cash with its sign, "+5,000" or "-5,000" (zero has none)."""
    return ("+" if minor > 0 else "") + amount_text(minor, currency)


def money_text(minor: int, currency: str) -> str:
    return f"{amount_text(minor, currency)} {currency}"


def date_text(day: dt.date | None) -> str:
    return day.isoformat() if day else "-"


def read_date(text: str) -> dt.date:
    """A date typed in a field, checked as imports check them (on the calendar, 1900-2099)."""
    cleaned = latin_digits(text).strip()
    try:
        return parse_date(cleaned)
    except InvalidDate as exc:
        if _DATE_SHAPE.fullmatch(cleaned):  # the right shape, but not a day that exists
            raise LedgerError(str(exc)) from None
        raise LedgerError(
            f"{text!r}: " + t("write the date as YYYY-MM-DD, e.g. 2026-11-22.")
        ) from None


def attempt(app: SansamApp, work: Callable[[], T]) -> T | None:
    """Run ``work``; a refusal a user can act on is shown as a plain message (and
    ``None`` returned). Anything unexpected goes to the app's own handler (logged, never
    shown as a traceback)."""
    try:
        return work()
    except LedgerError as exc:
        app.notify(str(exc), title=t("Not done"), severity="error", timeout=10)
        return None


class GroupScreen(Screen[None]):
    """A screen about one group, opened from its dashboard: Esc goes back to the screen
    it came from."""

    def __init__(self, group_id: int) -> None:
        super().__init__()
        self.group_id = group_id

    @property
    def sansam(self) -> SansamApp:
        return cast("SansamApp", self.app)

    def action_back(self) -> None:
        self.app.pop_screen()


class Confirm(ModalScreen[bool]):
    """A yes/no question, asked before anything is posted. Enter does not answer it:
    the treasurer presses Y (or clicks) on purpose."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str, detail: str = "", *, yes: str = "Yes, post it") -> None:
        super().__init__()
        self.question, self.detail, self.yes = question, detail, yes

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            # Markup off: a member's name or a purpose may hold "[", and must show as typed.
            yield Label(self.question, id="question", markup=False)
            if self.detail:
                yield Static(self.detail, id="detail", markup=False)
            with Horizontal(id="buttons"):
                yield Button(f"{t(self.yes)} (Y)", variant="warning", id="yes")
                yield Button(f"{t('No')} (N)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


def table_cells(values: list[Any]) -> list[str]:
    """Cells for a DataTable: None as a dash, everything else as text."""
    return ["-" if v is None else str(v) for v in values]
