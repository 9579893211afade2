"""A group's loans: the list with what each member owes, and a loan's life from here.

The screen does what ``sansam loan apply|approve|reject|disburse|show|list`` does: the
treasurer records an application (``a``), the chair or a coordinator approves (``v``) or
rejects (``x``) it, and the treasurer puts an approved loan on the open meeting's sheet
(``d``, or ``b`` from the bank); Enter shows a loan's schedule. Repayments are not taken
here: they are written on the meeting sheet, where the cash is counted.

Every change is asked with ``Confirm`` first and is one ``Book.write``. The ledger keeps
the rules (maker ≠ checker, the coordinator's threshold, an open meeting); the screen
checks the obvious ones before asking, so that a treasurer is not asked "are you sure?"
about something she may not do, and says in one sentence what to do instead.

The list is read a page at a time, newest loan first (the applications waiting for a
decision are the newest), so a group with thousands of old loans opens at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Select, Static

from ledger.errors import LedgerError
from ledger.groups import get_group
from ledger.loan_products import ProductRecord, list_products
from ledger.loans import (
    LoanRecord,
    LoanStatement,
    apply_for_loan,
    approve_loan,
    lend_at_meeting,
    loan_by_number,
    loan_statement,
    loan_statements,
    reject_loan,
)
from ledger.meetings import find_meeting
from ledger.members import list_members
from ledger.models import Loan, Meeting
from ledger.money import from_minor
from ledger.permissions import PermissionDenied, allow, require
from ledger.queries import open_meeting_of
from tui.common import Confirm, GroupScreen, amount_text, date_text, money_text, read_amount
from tui.words import t

if TYPE_CHECKING:
    from tui.app import SansamApp

PAGE_SIZE = 100
OVERDUE = "bold red"
RIGHT = {0, 3, 5, 6, 7}  # the list's columns of numbers, right-justified
SOURCE_WORDS = {"cash_box": "from the cash box", "bank": "from the bank"}


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoanPage:
    """One page of the group's loans, newest first, with where each stands today."""

    currency: str
    statements: list[LoanStatement]
    on_sheet: dict[int, int]  # loan number -> meeting number, for loans waiting to be lent
    total: int  # loans in the group
    first: int  # position of the first row among all loans (1-based)
    more: bool  # older loans follow


def read_loans_page(
    session: Session, group_id: int, *, before: int | None, on: dt.date, size: int = PAGE_SIZE
) -> LoanPage:
    """The ``size`` loans numbered below ``before`` (None: the newest), newest first.

    Keyset paging on the loan number: the page costs the same on the hundredth page as
    on the first, and statements are worked out for the page's loans only.
    """
    allow(session, "read", group_id)
    currency = get_group(session, group_id).currency
    query = select(Loan).where(Loan.group_id == group_id)
    if before is not None:
        query = query.where(Loan.number < before)
    rows = list(session.execute(query.order_by(Loan.number.desc()).limit(size + 1)).scalars())
    page = rows[:size]
    total = session.execute(
        select(func.count()).select_from(Loan).where(Loan.group_id == group_id)
    ).scalar_one()
    newer = 0
    if before is not None:
        newer = session.execute(
            select(func.count())
            .select_from(Loan)
            .where(Loan.group_id == group_id, Loan.number >= before)
        ).scalar_one()
    return LoanPage(
        currency=currency,
        statements=loan_statements(session, page, on=on) if page else [],
        on_sheet=_sheet_numbers(session, page),
        total=total,
        first=newer + 1,
        more=len(rows) > size,
    )


def _sheet_numbers(session: Session, loans: list[Loan]) -> dict[int, int]:
    """Approved loans already on a meeting's sheet: loan number -> meeting number."""
    waiting = {x.disburse_meeting_id: x.number for x in loans if x.status == "approved"}
    waiting.pop(None, None)
    if not waiting:
        return {}
    meetings = session.execute(
        select(Meeting.id, Meeting.number).where(Meeting.id.in_(list(waiting)))
    ).all()
    return {waiting[meeting_id]: number for meeting_id, number in meetings}


def status_text(st: LoanStatement, on_sheet: int | None = None) -> str:
    """What a loan is waiting for, or how it stands once lent (Latin script: a cell)."""
    if st.state == "not lent":
        if st.loan.status == "approved" and on_sheet is not None:
            return f"to lend at #{on_sheet}"
        return st.loan.status.replace("_", " ")
    return st.state + (" (resched.)" if st.rescheduled else "")


def loan_cells(st: LoanStatement, on_sheet: int | None = None) -> list[Text]:
    """A row of the list; an overdue loan's row is red, so it stands out."""
    c = st.currency
    lent = st.state != "not lent"
    values = [
        str(st.loan.number),
        st.loan.member_code,
        st.loan.product_code,
        amount_text(st.loan.amount, c),
        status_text(st, on_sheet),
        amount_text(st.principal_outstanding, c) if lent else "-",
        amount_text(st.due_now, c) if lent else "-",
        str(st.days_overdue) if lent else "-",
    ]
    style = OVERDUE if st.days_overdue else ""
    return [
        Text(v, style=style, justify="right" if k in RIGHT else "left")
        for k, v in enumerate(values)
    ]


# --- the list ------------------------------------------------------------------------------


class LoansScreen(GroupScreen):
    """The group's loans, and the steps of a loan's life before it is repaid."""

    BINDINGS = [
        Binding("enter", "schedule", "Loan schedule"),
        Binding("a", "apply", "New application"),
        Binding("v", "approve", "Approve loan"),
        Binding("x", "reject", "Reject loan"),
        Binding("d", "lend('cash_box')", "Lend at meeting"),
        Binding("b", "lend('bank')", "Lend from bank"),
        Binding("n", "next_page", "Older loans"),
        Binding("p", "previous_page", "Newer loans"),
        Binding("ctrl+r", "refresh", "Refresh"),
        Binding("escape", "back", "Dashboard"),
    ]
    DEFAULT_CSS = """
    LoansScreen #message {
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, group_id: int) -> None:
        super().__init__(group_id)
        self.starts: list[int | None] = [None]  # each page read so far: loans below this
        self.page: LoanPage | None = None
        self.by_number: dict[int, LoanStatement] = {}
        self.code = ""  # the group's code, for titles and refusals

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="title", classes="title")
        yield DataTable(id="loans", cursor_type="row", zebra_stripes=True)
        yield Static("", id="hint", classes="hint")
        yield Static("", id="message", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for k, header in enumerate(
            ("#", "Member", "Product", "Amount", "Status", "Outstanding", "Due now", "Days late")
        ):
            table.add_column(Text(header, justify="right" if k in RIGHT else "left"))
        self.action_refresh()
        table.focus()

    # --- reading and showing -------------------------------------------------------------

    def action_refresh(self, select_number: int | None = None) -> None:
        """Read the page on screen again, keeping the cursor on the same loan."""
        book = self.sansam.signed
        assert book is not None
        with book.read() as session:
            page = read_loans_page(
                session,
                self.group_id,
                before=self.starts[-1],
                on=self.sansam.today,
                size=PAGE_SIZE,
            )
            self.code = get_group(session, self.group_id).code
        keep = select_number if select_number is not None else self.selected_number()
        self.page = page
        self.by_number = {st.loan.number: st for st in page.statements}
        table = self.query_one(DataTable)
        table.clear()
        for st in page.statements:
            number = st.loan.number
            table.add_row(*loan_cells(st, page.on_sheet.get(number)), key=str(number))
        if keep in self.by_number:
            table.move_cursor(row=table.get_row_index(str(keep)))
        self.show_title(page)

    def show_title(self, page: LoanPage) -> None:
        shown = len(page.statements)
        where = (
            f"{page.first}–{page.first + shown - 1} / {page.total}"
            if shown
            else f"0 / {page.total}"
        )
        self.query_one("#title", Static).update(
            f"{self.code} · {t('Loans')} {where} · {date_text(self.sansam.today)}"
        )
        overdue = sum(1 for st in page.statements if st.days_overdue)
        hints = [t("Newest first. Red: overdue.")] if shown else []
        if overdue:
            hints.append(f"{overdue} {t('overdue on this page.')}")
        if page.more:
            hints.append(t("Older loans: press N."))
        if len(self.starts) > 1:
            hints.append(t("Newer loans: press P."))
        if not page.total:
            hints = [t("This group has no loans yet. Press A to record an application.")]
        self.query_one("#hint", Static).update(" ".join(hints))

    def action_next_page(self) -> None:
        if self.page is None or not self.page.more or not self.page.statements:
            self.say(t("There are no older loans."))
            return
        self.starts.append(self.page.statements[-1].loan.number)
        self.action_refresh()
        self.query_one(DataTable).move_cursor(row=0)

    def action_previous_page(self) -> None:
        if len(self.starts) == 1:
            self.say(t("This is the first page: the newest loans."))
            return
        self.starts.pop()
        self.action_refresh()
        self.query_one(DataTable).move_cursor(row=0)

    def selected_number(self) -> int | None:
        table = self.query_one(DataTable)
        if not table.row_count or table.cursor_row < 0:
            return None
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        return int(key) if key is not None else None

    def selected(self) -> LoanStatement | None:
        """The loan under the cursor, or None with a word on what to do."""
        number = self.selected_number()
        if number is None or number not in self.by_number:
            self.refuse(t("Choose a loan in the list first (arrow keys)."))
            return None
        return self.by_number[number]

    def say(self, text: str) -> None:
        """A plain message under the list: what was done."""
        message = self.query_one("#message", Static)
        message.remove_class("error")
        message.update(text)

    def refuse(self, text: str) -> None:
        """A plain message under the list: what was not done, and why."""
        message = self.query_one("#message", Static)
        message.add_class("error")
        message.update(text)

    def write(self, work: Callable[[Session], Any]) -> Any | None:
        """One unit of work as the signed-in user; a refusal is shown under the list."""
        book = self.sansam.signed
        assert book is not None
        try:
            return book.write(work)
        except LedgerError as exc:
            self.refuse(f"{t('Not done')}: {exc}")
            return None

    def may(self, action: str, why: str) -> bool:
        """Whether the signed-in user may take ``action`` here; if not, the ledger's own
        refusal is shown, with ``why`` (who does it instead)."""
        try:
            require(self.sansam.actor, action, self.group_id, group_code=self.code)
        except PermissionDenied as refusal:
            self.refuse(f"{refusal} {why}")
            return False
        return True

    # --- opening a loan ------------------------------------------------------------------

    def action_schedule(self) -> None:
        st = self.selected()
        if st is not None:
            self.app.push_screen(LoanScheduleScreen(self.group_id, st.loan.number))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter (or a click) on a row opens that loan's schedule."""
        if event.row_key.value is not None:
            self.app.push_screen(LoanScheduleScreen(self.group_id, int(event.row_key.value)))

    # --- applying ------------------------------------------------------------------------

    def action_apply(self) -> None:
        if not self.may("record", t("The treasurer records loan applications.")):
            return
        book = self.sansam.signed
        assert book is not None
        with book.read() as session:
            group = get_group(session, self.group_id)
            products = list_products(session, self.group_id)
            members = list_members(session, self.group_id, on=self.sansam.today)
        if not products:
            self.refuse(
                t("The group has no loan product yet; add one first (sansam product create).")
            )
            return
        codes = {m.code: m.name_latin for m in members}
        form = LoanApplicationForm(self.group_id, group.currency, products, codes)
        self.app.push_screen(form, self.applied)

    def applied(self, loan: LoanRecord | None) -> None:
        if loan is None:
            return
        self.starts = [None]  # the new loan is the newest: first page
        self.action_refresh(select_number=loan.number)
        self.say(
            f"{t('Recorded loan')} #{loan.number} ({loan.member_code}, "
            f"{money_text(loan.amount, self.currency)}). "
            + t("The chair or a coordinator approves it (V).")
        )

    @property
    def currency(self) -> str:
        return self.page.currency if self.page else ""

    # --- approving and rejecting ---------------------------------------------------------

    def action_approve(self) -> None:
        st = self.selected()
        if st is None:
            return
        loan = st.loan
        if loan.status != "applied":
            self.refuse(
                f"{t('Loan')} #{loan.number}: {status_text(st)}. "
                + t("Only an application waiting for a decision is approved.")
            )
            return
        if not self.may("approve_loan", t("The chair or a coordinator approves loans.")):
            return
        me = self.sansam.actor
        if loan.recorded_by == me.username:
            self.refuse(
                f"{me.display_name} ({me.username}) "
                + t("recorded this application and so cannot approve it;")
                + " "
                + t("another officer of the group (usually the chair) must.")
            )
            return
        question = f"{t('Approve loan')} #{loan.number}?"
        self.app.push_screen(
            Confirm(question, self.loan_detail(loan), yes="Yes, approve it"),
            lambda yes: self.approve(loan) if yes else None,
        )

    def approve(self, loan: LoanRecord) -> None:
        today = self.sansam.today
        done = self.write(lambda s: approve_loan(s, loan.id, on=today))
        if done is None:
            return
        self.action_refresh()
        self.say(
            f"{t('Loan')} #{done.number} {t('approved by')} {done.approved_by} "
            f"({done.approved_as}). " + t("The treasurer lends it at the meeting (D).")
        )

    def action_reject(self) -> None:
        st = self.selected()
        if st is None:
            return
        loan = st.loan
        on_sheet = self.page.on_sheet.get(loan.number) if self.page else None
        if loan.status not in ("applied", "approved") or on_sheet is not None:
            self.refuse(
                f"{t('Loan')} #{loan.number}: {status_text(st, on_sheet)}. "
                + t(
                    "Only an application, or an approved loan not yet on a meeting's sheet, "
                    "is rejected."
                )
            )
            return
        if not self.may("approve_loan", t("The chair or a coordinator rejects loans.")):
            return
        question = f"{t('Reject loan')} #{loan.number}?"
        self.app.push_screen(
            Confirm(question, self.loan_detail(loan), yes="Yes, reject it"),
            lambda yes: self.reject(loan) if yes else None,
        )

    def reject(self, loan: LoanRecord) -> None:
        done = self.write(lambda s: reject_loan(s, loan.id))
        if done is None:
            return
        self.action_refresh()
        self.say(f"{t('Loan')} #{done.number} {t('rejected.')}")

    def loan_detail(self, loan: LoanRecord) -> str:
        return (
            f"{loan.member_code} · {loan.product_code} · {money_text(loan.amount, self.currency)}"
            f"\n{t('Purpose')}: {loan.purpose}\n{t('Recorded by')}: {loan.recorded_by}"
        )

    # --- lending -------------------------------------------------------------------------

    def action_lend(self, source: str = "cash_box") -> None:
        st = self.selected()
        if st is None:
            return
        loan = st.loan
        if loan.status != "approved":
            self.refuse(
                f"{t('Loan')} #{loan.number}: {status_text(st)}. "
                + t("Only an approved loan is lent.")
            )
            return
        if not self.may("record", t("The treasurer lends loans at the meeting.")):
            return
        book = self.sansam.signed
        assert book is not None
        with book.read() as session:
            draft = open_meeting_of(session, self.group_id)
            meeting = find_meeting(session, self.group_id, draft[1]) if draft else None
        if meeting is None:
            self.refuse(t("Open the meeting first (m on the dashboard)."))
            return
        question = (
            f"{t('Lend loan')} #{loan.number} {t('at meeting')} #{meeting.number} "
            f"({date_text(meeting.meeting_date)}), {t(SOURCE_WORDS[source])}?"
        )
        detail = (
            self.loan_detail(loan)
            + "\n"
            + t("The money leaves when the meeting closes; the schedule is made then.")
        )
        self.app.push_screen(
            Confirm(question, detail, yes="Yes, lend it"),
            lambda yes: self.lend(loan, meeting.id, meeting.number, source) if yes else None,
        )

    def lend(self, loan: LoanRecord, meeting_id: int, meeting_number: int, source: str) -> None:
        done = self.write(lambda s: lend_at_meeting(s, meeting_id, loan.id, source=source))
        if done is None:
            return
        self.action_refresh()
        self.say(
            f"{t('Loan')} #{done.number} {t('is on the sheet of meeting')} #{meeting_number}, "
            f"{t(SOURCE_WORDS[source])}. "
            + t("It is paid out and scheduled when the meeting closes.")
        )


# --- applying: the form --------------------------------------------------------------------


class LoanApplicationForm(ModalScreen[LoanRecord | None]):
    """A member's application, as the treasurer copies it from the paper form.

    Typing mistakes are caught in place, before the question is asked; the ledger's own
    refusals (a member who has left, above the product's maximum) appear in the same
    place, and the form stays open with what was typed.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    LoanApplicationForm {
        align: center middle;
    }
    LoanApplicationForm .field {
        height: auto;
    }
    LoanApplicationForm .field Label {
        width: 16;
        padding: 1 1 0 0;
    }
    LoanApplicationForm .field Input, LoanApplicationForm .field Select {
        width: 1fr;
    }
    LoanApplicationForm #member-name {
        color: $text-muted;
        height: 1;
        padding-left: 16;
    }
    LoanApplicationForm #form-error {
        height: auto;
    }
    """

    def __init__(
        self,
        group_id: int,
        currency: str,
        products: list[ProductRecord],
        members: dict[str, str],
    ) -> None:
        super().__init__()
        self.group_id, self.currency = group_id, currency
        self.products, self.members = products, members
        self.busy = False  # asked or writing: a second Enter does not post twice

    @property
    def sansam(self) -> SansamApp:
        return cast("SansamApp", self.app)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(t("Record a loan application"), id="question")
            with Horizontal(classes="field"):
                yield Label(t("Member code"))
                yield Input(
                    id="member",
                    placeholder=next(iter(self.members), ""),
                    suggester=SuggestFromList(list(self.members), case_sensitive=False),
                )
            yield Static("", id="member-name", markup=False)
            with Horizontal(classes="field"):
                yield Label(t("Loan product"))
                yield Select(
                    [(f"{p.code} · {p.name}", p.code) for p in self.products],
                    value=self.products[0].code,
                    allow_blank=False,
                    id="product",
                )
            with Horizontal(classes="field"):
                yield Label(f"{t('Amount')} ({self.currency})")
                yield Input(id="amount", placeholder="100,000")
            with Horizontal(classes="field"):
                yield Label(t("Purpose"))
                yield Input(id="purpose", max_length=500)
            yield Static("", id="form-error", classes="error", markup=False)
            with Horizontal(id="buttons"):
                yield Button(t("Record"), variant="primary", id="record")
                yield Button(f"{t('Cancel')} (Esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#member", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "member":
            name = self.members.get(self.member_code(event.value))
            self.query_one("#member-name", Static).update(name or "")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves on to the next field; on the last one it records. The product is
        skipped when the group has only one (it is already chosen)."""
        if event.input.id == "purpose":
            self.submit()
        elif event.input.id == "member" and len(self.products) > 1:
            self.query_one("#product", Select).focus()
        elif event.input.id == "member":
            self.query_one("#amount", Input).focus()
        else:
            self.query_one("#purpose", Input).focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        """A product picked from the list: on to the amount."""
        if event.select.has_focus_within:
            self.query_one("#amount", Input).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "record":
            self.submit()
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def member_code(self, typed: str) -> str:
        """The code as the group writes it ("ac03" is AC03)."""
        typed = typed.strip()
        for code in self.members:
            if code.casefold() == typed.casefold():
                return code
        return typed

    def error(self, text: str) -> None:
        self.query_one("#form-error", Static).update(text)

    def submit(self) -> None:
        """Check what was typed, then ask before anything is written."""
        if self.busy:
            return
        code = self.member_code(self.query_one("#member", Input).value)
        purpose = self.query_one("#purpose", Input).value.strip()
        product = str(self.query_one("#product", Select).value)
        if not code:
            self.error(t("Type the member's code, as on the member's card."))
            return
        if code not in self.members:
            self.error(f"{code}: " + t("no member of this group has this code today."))
            return
        try:
            amount = read_amount(
                self.query_one("#amount", Input).value, self.currency, allow_empty=False
            )
        except LedgerError as exc:
            self.error(str(exc))
            return
        if amount <= 0:
            self.error(t("The amount of a loan must be more than zero."))
            return
        if not purpose:
            self.error(t("Write what the loan is for (the purpose)."))
            return
        self.error("")
        self.busy = True
        question = (
            f"{t('Record the application of')} {code} ({self.members[code]}) "
            f"{t('for')} {money_text(amount, self.currency)}?"
        )
        detail = (
            f"{t('Loan product')}: {product}\n{t('Purpose')}: {purpose}\n"
            f"{t('Applied on')}: {date_text(self.sansam.today)}\n"
            + t("Another officer (usually the chair) approves it.")
        )
        self.app.push_screen(
            Confirm(question, detail, yes="Yes, record it"),
            lambda yes: self.record(code, product, amount, purpose) if yes else self.unbusy(),
        )

    def unbusy(self) -> None:
        self.busy = False

    def record(self, code: str, product: str, amount: int, purpose: str) -> None:
        book = self.sansam.signed
        assert book is not None
        today = self.sansam.today
        money = from_minor(amount, self.currency)
        try:
            loan = book.write(
                lambda s: apply_for_loan(
                    s, self.group_id, code, product, money, purpose=purpose, applied_on=today
                )
            )
        except LedgerError as exc:
            self.busy = False
            self.error(f"{t('Not done')}: {exc}")
            return
        self.dismiss(loan)


# --- a loan's schedule ---------------------------------------------------------------------


class LoanScheduleScreen(GroupScreen):
    """One loan: who, what for, who approved it, and its instalments as of today.

    What the loan card shows, on screen: each instalment with its due date, principal,
    interest and what is paid of it; overdue instalments in red; then what is due now
    (to be up to date) and what settles the loan now.
    """

    BINDINGS = [
        Binding("ctrl+r", "refresh", "Refresh"),
        Binding("escape", "back", "Loans"),
    ]
    DEFAULT_CSS = """
    LoanScheduleScreen #facts, LoanScheduleScreen #totals {
        height: auto;
        padding: 0 1;
    }
    LoanScheduleScreen #totals {
        border-top: solid $primary;
    }
    """

    def __init__(self, group_id: int, number: int) -> None:
        super().__init__(group_id)
        self.number = number

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="title", classes="title")
        yield Static("", id="facts", markup=False)
        yield DataTable(id="instalments", cursor_type="row", zebra_stripes=True)
        yield Static("", id="totals")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for k, header in enumerate(
            ("#", "Due", "Principal", "Interest", "Total", "Paid", "Status")
        ):
            table.add_column(Text(header, justify="left" if k in (1, 6) else "right"))
        self.action_refresh()
        self.query_one(DataTable).focus()

    def action_refresh(self) -> None:
        book = self.sansam.signed
        assert book is not None
        with book.read() as session:
            code = get_group(session, self.group_id).code
            loan = loan_by_number(session, self.group_id, self.number)
            st = loan_statement(session, loan.id, on=self.sansam.today)
        r = st.loan
        self.query_one("#title", Static).update(
            f"{code} · {t('Loan')} #{r.number} · {r.member_code} · "
            f"{money_text(r.amount, st.currency)}"
        )
        self.query_one("#facts", Static).update(self.facts(st))
        self.show_instalments(st)
        self.query_one("#totals", Static).update(self.totals(st))

    @staticmethod
    def facts(st: LoanStatement) -> str:
        r = st.loan
        lines = [
            f"{t('Purpose')}: {r.purpose} · {t('Loan product')}: {r.product_code}",
            f"{t('Recorded by')}: {r.recorded_by} · {t('Approved by')}: "
            + (f"{r.approved_by} ({r.approved_as})" if r.approved_by else "-")
            + f" · {t('Lent on')}: {date_text(r.disbursed_on)}"
            + (f" ({t('from the bank')})" if r.disburse_from == "bank" else ""),
        ]
        if r.opening_on:
            lines.append(
                f"{t('Carried over from the paper books on')} {date_text(r.opening_on)}, "
                f"{money_text(r.principal_lent, st.currency)} {t('owed then')}."
            )
        return "\n".join(lines)

    def show_instalments(self, st: LoanStatement) -> None:
        c = st.currency
        table = self.query_one(DataTable)
        table.clear()
        for i in st.instalments:
            style = OVERDUE if i.status == "overdue" else ""
            status = i.status + (", late" if i.late and i.status != "overdue" else "")
            cells = [
                str(i.number),
                date_text(i.due_on),
                amount_text(i.principal, c),
                amount_text(i.interest, c),
                amount_text(i.total, c),
                amount_text(i.paid, c),
                status,
            ]
            table.add_row(
                *(
                    Text(v, style=style, justify="left" if k in (1, 6) else "right")
                    for k, v in enumerate(cells)
                ),
                key=str(i.number),
            )
        if st.instalments:
            sums = [
                sum(i.principal for i in st.instalments),
                sum(i.interest for i in st.instalments),
                sum(i.total for i in st.instalments),
                sum(i.paid for i in st.instalments),
            ]
            table.add_row(
                Text("Total", style="bold"),
                Text(""),
                *(Text(amount_text(v, c), style="bold", justify="right") for v in sums),
                Text(""),
                key="total",
            )

    @staticmethod
    def totals(st: LoanStatement) -> str:
        c = st.currency
        if st.state == "not lent":
            return t("Not lent yet: the schedule is made when the meeting that lends it closes.")
        paid = (
            f"{t('Paid')}: {t('principal')} {money_text(st.principal_paid, c)}, "
            f"{t('interest')} {money_text(st.interest_paid, c)}, "
            f"{t('penalties')} {money_text(st.penalty_paid, c)}."
        )
        if st.state == "written off":
            return (
                f"{t('Written off')} {money_text(st.written_off, c)} "
                f"({date_text(st.loan.written_off_on)}); {t('recovered')} "
                f"{money_text(st.recovered, c)}; {t('left to recover')} "
                f"{money_text(st.owed_now, c)}.\n{paid}"
            )
        if st.state == "closed":
            return f"{t('Repaid in full.')}\n{paid}"
        owed = (
            f"{t('Owed')}: {t('principal')} {money_text(st.principal_outstanding, c)}, "
            f"{t('interest due')} {money_text(st.interest_due, c)}, "
            f"{t('penalties')} {money_text(st.penalty_due, c)}."
        )
        now = (
            f"[b]{t('Due now')}: {money_text(st.due_now, c)}[/b] · "
            f"{t('Settles the loan now')}: {money_text(st.owed_now, c)}"
        )
        if st.days_overdue:
            now += f" · [b red]{st.days_overdue} {t('days overdue')}[/]"
        if st.rescheduled:
            now += f" · {t('rescheduled')}"
        return f"{paid}\n{owed}\n{now}"
