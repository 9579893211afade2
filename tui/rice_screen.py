"""The rice bank of a group: what is in store, what members owe and who is late, and the
three things a treasurer records here: lending rice, a repayment, and a stock count.

Everything is as of ``app.today``. Each action is a small form, then a yes/no
``Confirm``, then one ``Book.write`` with a key made when the form opened (pressing Yes
twice never lends twice). Lending needs the chair's countersign, as on the command line:
she types her own user name and password at the treasurer's screen and is signed in for
that one decision (``Countersign``); a wrong password is refused in place and nothing is
lent. Quantities are typed in kilograms ("125.5", "1,250" or Khmer digits).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar, cast

from moneyed import Money
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Footer, Header, Input, Label, Select, Static

from ledger.errors import InvalidEntry, LedgerError
from ledger.groups import GroupRecord, get_group
from ledger.members import MemberRecord, list_members
from ledger.money import from_minor
from ledger.permissions import Actor
from ledger.rice import LOSS_REASONS, RICE, count_stock, kg
from ledger.rice_loans import (
    RiceLoanStatement,
    RiceProductRecord,
    lend_rice,
    repay_rice,
    rice_products,
)
from ledger.rice_position import RicePosition, rice_position
from ledger.rice_state import rice_interest
from ledger.users import SignInRefused, sign_in
from tui.common import Confirm, GroupScreen, attempt, money_text, read_amount, read_date
from tui.words import t

if TYPE_CHECKING:
    from tui.app import SansamApp

R = TypeVar("R")


def read_kg(text: str, *, zero_allowed: bool = False) -> int:
    """Kilograms as typed ("125.5", "1,250", Khmer digits), in grams; refused with a
    sentence when it is not a quantity of rice."""
    grams = read_amount(text, RICE, allow_empty=False)
    if grams == 0 and not zero_allowed:
        raise InvalidEntry(t("Type a quantity of rice more than 0 kg, e.g. 125.5."))
    return grams


# --- a small form in a modal -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FormField:
    """One line of a form: a text box, or a choice when ``choices`` is given
    (``(shown, value)`` pairs; an unanswered choice reads as "")."""

    name: str
    label: str
    placeholder: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    value: str = ""
    password: bool = False


class RiceForm(ModalScreen[R | None], Generic[R]):
    """A few fields and OK. ``read`` turns the answers into a request or refuses them
    with a sentence, shown in place; the form stays open until the answers are good or
    the user gives up (Esc)."""

    DEFAULT_CSS = """
    RiceForm { align: center middle; }
    RiceForm .form-row { height: 1; margin-top: 1; }
    RiceForm .form-row Label { width: 33; }
    RiceForm .form-row > Input, RiceForm .form-row > Select { width: 1fr; }
    RiceForm #form-error { height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        fields: list[FormField],
        read: Callable[[dict[str, str]], R],
        *,
        intro: str = "",
    ) -> None:
        super().__init__()
        self.title_text, self.fields, self.read, self.intro = title, fields, read, intro

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(self.title_text, id="question")
            if self.intro:
                yield Static(self.intro, classes="hint")
            for f in self.fields:
                with Horizontal(classes="form-row"):
                    yield Label(f.label)
                    yield self.field_widget(f)
            yield Static("", id="form-error", classes="error")
            with Horizontal(id="buttons"):
                yield Button(t("OK"), variant="primary", id="ok")
                yield Button(f"{t('Cancel')} (Esc)", id="cancel")

    @staticmethod
    def field_widget(f: FormField) -> Select[str] | Input:
        """Compact widgets, one line each, so a whole form fits an 80 x 24 terminal."""
        if f.choices:
            return Select(
                list(f.choices),
                prompt=t("Choose..."),
                value=f.value or Select.NULL,
                compact=True,
                id=f"f-{f.name}",
            )
        return Input(
            value=f.value,
            placeholder=f.placeholder,
            password=f.password,
            compact=True,
            id=f"f-{f.name}",
        )

    def answers(self) -> dict[str, str]:
        out = {}
        for f in self.fields:
            if f.choices:
                select = self.query_one(f"#f-{f.name}", Select)
                out[f.name] = "" if select.is_blank() else str(select.value)
            else:
                out[f.name] = self.query_one(f"#f-{f.name}", Input).value
        return out

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter moves to the next field, and on the last one sends the form."""
        event.stop()
        if event.input.id == f"f-{self.fields[-1].name}":
            self.action_submit()
        else:
            self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self.action_submit()
        else:
            self.action_cancel()

    def action_submit(self) -> None:
        try:
            request = self.read(self.answers())
        except LedgerError as exc:
            self.query_one("#form-error", Static).update(str(exc))
            return
        self.dismiss(request)

    def action_cancel(self) -> None:
        self.dismiss(None)


class Countersign(ModalScreen[Actor | None]):
    """The chair (or a coordinator) approves a rice loan at the treasurer's screen with
    her own user name and password, as ``sansam rice lend --approver`` asks for it. She is
    signed in for this one decision only; a wrong password counts like any sign-in."""

    DEFAULT_CSS = """
    Countersign { align: center middle; }
    Countersign .form-row { height: 1; margin-top: 1; }
    Countersign .form-row Label { width: 33; }
    Countersign .form-row > Input { width: 1fr; }
    Countersign #form-error { height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, group: GroupRecord, detail: str) -> None:
        super().__init__()
        self.group, self.detail = group, detail

    @property
    def sansam(self) -> SansamApp:
        return cast("SansamApp", self.app)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(t("The chair approves this rice loan"), id="question")
            yield Static(self.detail)
            yield Static(
                t("The chair (not the treasurer) types her own user name and password."),
                classes="hint",
            )
            with Horizontal(classes="form-row"):
                yield Label(t("Approver's user name"))
                yield Input(id="approver", placeholder=t("her user name"), compact=True)
            with Horizontal(classes="form-row"):
                yield Label(t("Her password or PIN"))
                yield Input(id="approver-secret", password=True, placeholder="••••••", compact=True)
            yield Static("", id="form-error", classes="error")
            with Horizontal(id="buttons"):
                yield Button(t("Approve"), variant="primary", id="ok")
                yield Button(f"{t('Cancel')} (Esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#approver", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "approver":
            self.query_one("#approver-secret", Input).focus()
        else:
            self.action_approve()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self.action_approve()
        else:
            self.action_cancel()

    def action_approve(self) -> None:
        name = self.query_one("#approver", Input).value.strip()
        secret_box = self.query_one("#approver-secret", Input)
        secret = secret_box.value
        if not name or not secret:
            self.refuse(t("The approver types her user name and her password or PIN."))
            return
        try:
            approver = self.sansam.book.write(lambda s: sign_in(s, name, secret))
        except SignInRefused as exc:
            secret_box.value = ""
            self.refuse(t(str(exc)))
            return
        problem = self.cannot_approve(approver)
        if problem:
            secret_box.value = ""
            self.refuse(problem)
            return
        self.dismiss(approver)

    def cannot_approve(self, approver: Actor) -> str:
        """Say at once why this person cannot approve (the service refuses it anyway),
        so the right person can sign instead without losing the form."""
        if approver.user_id == self.sansam.actor.user_id:
            return t("A rice loan is approved by someone other than the person recording it.")
        if not approver.may("approve_loan", self.group.id):
            return t("{name} may not approve loans in group {code}; the chair signs here.").format(
                name=approver.display_name, code=self.group.code
            )
        return ""

    def refuse(self, message: str) -> None:
        self.query_one("#form-error", Static).update(message)

    def action_cancel(self) -> None:
        self.dismiss(None)


# --- what the forms ask for ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LendRequest:
    member: MemberRecord
    product: RiceProductRecord
    grams: int
    purpose: str
    due_on: dt.date | None
    key: str


@dataclass(frozen=True, slots=True)
class RepayRequest:
    loan: RiceLoanStatement
    grams: int
    cash: int | None  # minor units of the group's currency, instead of the rice
    key: str


@dataclass(frozen=True, slots=True)
class CountRequest:
    grams: int
    reason: str | None
    note: str
    key: str


# --- the screen ------------------------------------------------------------------------------


class RiceScreen(GroupScreen):
    BINDINGS = [
        Binding("l", "lend", "Lend rice"),
        Binding("r", "repay", "Rice repaid"),
        Binding("c", "count", "Count the stock"),
        Binding("a", "toggle_repaid", "All loans / owed only"),
        Binding("ctrl+r", "refresh", "Refresh"),
        Binding("escape", "back", "Dashboard"),
    ]
    DEFAULT_CSS = """
    RiceScreen #rice-loans-title { padding: 0 1; margin-top: 1; text-style: bold; }
    """

    def __init__(self, group_id: int) -> None:
        super().__init__(group_id)
        self.show_repaid = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="title", classes="title")
        yield Grid(id="figures")
        yield Static("", id="rice-loans-title")
        yield DataTable(id="rice-loans", cursor_type="row", zebra_stripes=True)
        yield Static("", id="rice-hint", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(
            "No.", "Member", "Product", "Lent on", "Due on", "Lent", "Owes", "Interest", "State"
        )
        self.action_refresh()
        table.focus()

    def on_screen_resume(self) -> None:
        self.action_refresh()

    # --- reading ---------------------------------------------------------------------------

    def action_refresh(self) -> None:
        book = self.sansam.signed
        assert book is not None
        today = self.sansam.today
        with book.read() as session:
            self.group = get_group(session, self.group_id)
            self.position: RicePosition = rice_position(session, self.group_id, on=today)
            self.products = rice_products(session, self.group_id)
            self.members = list_members(session, self.group_id, on=today)
        self.query_one("#title", Static).update(
            f"{t('Rice bank')} · {self.group.code} · {self.group.name} · {today.isoformat()}"
        )
        grid = self.query_one("#figures", Grid)
        grid.remove_children()
        grid.mount_all(
            Static(f"[dim]{t(label)}[/]\n[b]{value}[/]", classes="figure")
            for label, value in self.figures(self.position)
        )
        self.show_loans()

    @staticmethod
    def figures(p: RicePosition) -> list[tuple[str, str]]:
        losses = ", ".join(f"{r} {kg(v)}" for r, v in p.losses.items() if v)
        return [
            ("In store", kg(p.stock)),
            ("Lent, still owed", kg(p.principal_outstanding)),
            ("Interest owed", kg(p.interest_owed)),
            ("Overdue loans", str(len(p.overdue))),
            ("Rice capital", kg(p.capital)),
            ("Interest earned", kg(p.interest_earned)),
            ("Losses", losses or t("none")),
            ("Bought less sold", kg(p.traded)),
        ]

    def shown_loans(self) -> list[RiceLoanStatement]:
        return [x for x in self.position.loans if self.show_repaid or x.standing.owed]

    def show_loans(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row
        table.clear()
        loans = self.shown_loans()
        for x in loans:
            s = x.standing
            state = Text(s.state)
            if s.state == "overdue":
                state = Text(f"OVERDUE {s.days_overdue} d", style="bold red")
            table.add_row(
                str(x.number),
                x.member_code,
                x.product_code,
                x.lent_on.isoformat(),
                s.due_on.isoformat(),
                kg(s.quantity),
                kg(s.owed),
                kg(s.interest_owed),
                state,
                key=str(x.number),
            )
        if loans:
            table.move_cursor(row=min(max(row, 0), len(loans) - 1))
        which = t("Rice loans, all") if self.show_repaid else t("Rice loans still owed")
        self.query_one("#rice-loans-title", Static).update(f"{which} ({len(loans)})")
        hint = ""
        if not self.products:
            hint = t(
                "The group has no kind of rice loan yet; the chair adds one with "
                "`sansam rice product create`."
            )
        elif not loans:
            hint = t("No rice loan is owed. Press L to lend rice.")
        self.query_one("#rice-hint", Static).update(hint)

    def action_toggle_repaid(self) -> None:
        self.show_repaid = not self.show_repaid
        self.show_loans()

    def may_record(self) -> bool:
        """Only a treasurer records rice (the services refuse anyone else anyway); say so
        before any form is filled in."""
        if self.sansam.actor.may("record", self.group_id):
            return True
        self.app.notify(
            t("Only the group's treasurer records rice in the books."),
            title=t("Not done"),
            severity="error",
        )
        return False

    def write(self, work: Callable[..., R]) -> R | None:
        """One unit of work as the signed-in user; a refusal is shown, nothing written."""
        book = self.sansam.signed
        assert book is not None
        result = attempt(self.sansam, lambda: book.write(work))
        self.action_refresh()
        return result

    # --- lending ---------------------------------------------------------------------------

    def action_lend(self) -> None:
        if not self.may_record():
            return
        if not self.products:
            self.app.notify(
                t("The group has no kind of rice loan yet; the chair adds one first."),
                severity="error",
            )
            return
        key = uuid.uuid4().hex
        fields = [
            FormField(
                "member",
                t("Member who borrows"),
                choices=tuple((f"{m.code} {m.name_latin}", m.code) for m in self.members),
            ),
            FormField(
                "product",
                t("Kind of rice loan"),
                choices=tuple(
                    (
                        f"{p.code} {p.name}: {p.interest_percent.normalize():f} %, "
                        f"{p.term_days} days",
                        p.code,
                    )
                    for p in self.products
                ),
                value=self.products[0].code if len(self.products) == 1 else "",
            ),
            FormField("kg", t("Quantity lent, in kg"), placeholder="125.5"),
            FormField(
                "purpose", t("What the rice is for"), placeholder=t("Seed for the wet season")
            ),
            FormField("due", t("Due date (empty: product's term)"), placeholder="YYYY-MM-DD"),
        ]
        intro = f"{t('In store')}: {kg(self.position.stock)}"
        form = RiceForm(t("Lend rice"), fields, lambda v: self.read_lend(v, key), intro=intro)
        self.app.push_screen(form, self.lend_entered)

    def read_lend(self, v: dict[str, str], key: str) -> LendRequest:
        member = next((m for m in self.members if m.code == v["member"]), None)
        if member is None:
            raise InvalidEntry(t("Choose the member who borrows the rice."))
        product = next((p for p in self.products if p.code == v["product"]), None)
        if product is None:
            raise InvalidEntry(t("Choose the kind of rice loan."))
        grams = read_kg(v["kg"])
        if not v["purpose"].strip():
            raise InvalidEntry(t("Write what the rice is for (e.g. seed for the wet season)."))
        due = read_date(v["due"]) if v["due"].strip() else None
        return LendRequest(member, product, grams, v["purpose"].strip(), due, key)

    def lend_detail(self, req: LendRequest) -> str:
        owed = req.grams + rice_interest(req.grams, req.product.interest_ppm)
        due = req.due_on or self.sansam.today + dt.timedelta(days=req.product.term_days)
        return "\n".join(
            [
                f"{req.member.code} {req.member.name_latin}: {kg(req.grams)} ({req.product.code})",
                t("Owed back: {owed}, due {due}.").format(owed=kg(owed), due=due.isoformat()),
                t("For: {purpose}").format(purpose=req.purpose),
            ]
        )

    def lend_entered(self, req: LendRequest | None) -> None:
        if req is None:
            return
        self.app.push_screen(
            Countersign(self.group, self.lend_detail(req)),
            lambda approver: self.lend_approved(req, approver),
        )

    def lend_approved(self, req: LendRequest, approver: Actor | None) -> None:
        if approver is None:
            return
        detail = f"{self.lend_detail(req)}\n{t('Approved by')}: {approver.display_name}"
        self.app.push_screen(
            Confirm(t("Lend this rice?"), detail),
            lambda yes: self.post_lend(req, approver) if yes else None,
        )

    def post_lend(self, req: LendRequest, approver: Actor) -> None:
        today = self.sansam.today
        st = self.write(
            lambda s: lend_rice(
                s,
                self.group_id,
                req.member.code,
                req.product.code,
                from_minor(req.grams, RICE),
                on=today,
                approver=approver,
                purpose=req.purpose,
                due_on=req.due_on,
                key=req.key,
                today=today,
            )
        )
        if st is not None:
            self.app.notify(
                t("Rice loan #{number} lent to {member}: {owed} owed by {due}.").format(
                    number=st.number,
                    member=st.member_code,
                    owed=kg(st.standing.owed),
                    due=st.standing.due_on.isoformat(),
                )
            )

    # --- repaying --------------------------------------------------------------------------

    def action_repay(self) -> None:
        if not self.may_record():
            return
        owed = [x for x in self.position.loans if x.standing.owed]
        if not owed:
            self.app.notify(t("No rice loan is owed."), severity="warning")
            return
        key = uuid.uuid4().hex
        under_cursor = self.loan_under_cursor()
        fields = [
            FormField(
                "loan",
                t("Rice loan"),
                choices=tuple(
                    (f"#{x.number} {x.member_code}: owes {kg(x.standing.owed)}", str(x.number))
                    for x in owed
                ),
                value=str(under_cursor.number)
                if under_cursor and under_cursor.standing.owed
                else "",
            ),
            FormField("kg", t("Quantity repaid, in kg"), placeholder="120"),
            FormField(
                "cash",
                t("Cash paid instead ({currency})").format(currency=self.group.currency),
                placeholder=t("empty: repaid in rice"),
            ),
        ]
        form = RiceForm(
            t("Rice repayment"),
            fields,
            lambda v: self.read_repay(v, owed, key),
            intro=t("Interest is paid first, then the rice lent."),
        )
        self.app.push_screen(form, self.repay_entered)

    def loan_under_cursor(self) -> RiceLoanStatement | None:
        table = self.query_one(DataTable)
        if table.row_count == 0 or table.cursor_row < 0:
            return None
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        return next((x for x in self.position.loans if str(x.number) == key), None)

    def read_repay(
        self, v: dict[str, str], owed: list[RiceLoanStatement], key: str
    ) -> RepayRequest:
        loan = next((x for x in owed if str(x.number) == v["loan"]), None)
        if loan is None:
            raise InvalidEntry(t("Choose the rice loan that is repaid."))
        grams = read_kg(v["kg"])
        cash = read_amount(v["cash"], self.group.currency) or None
        return RepayRequest(loan, grams, cash, key)

    def repay_entered(self, req: RepayRequest | None) -> None:
        if req is None:
            return
        s = req.loan.standing
        lines = [
            t("{member} repays {kg} on rice loan #{number}.").format(
                member=req.loan.member_code, kg=kg(req.grams), number=req.loan.number
            ),
            t("Owed before: {owed}, of which {interest} interest.").format(
                owed=kg(s.owed), interest=kg(s.interest_owed)
            ),
        ]
        if req.cash is not None:
            lines.append(
                f"{t('Paid in cash instead')}: {money_text(req.cash, self.group.currency)}"
            )
        self.app.push_screen(
            Confirm(t("Record this rice repayment?"), "\n".join(lines)),
            lambda yes: self.post_repay(req) if yes else None,
        )

    def post_repay(self, req: RepayRequest) -> None:
        today = self.sansam.today
        cash: Money | None = None if req.cash is None else from_minor(req.cash, self.group.currency)
        st = self.write(
            lambda s: repay_rice(
                s,
                self.group_id,
                req.loan.number,
                from_minor(req.grams, RICE),
                on=today,
                cash=cash,
                key=req.key,
                today=today,
            )
        )
        if st is not None:
            self.app.notify(
                t("Repaid. Rice loan #{number} still owes {owed}.").format(
                    number=st.number, owed=kg(st.standing.owed)
                )
            )

    # --- counting --------------------------------------------------------------------------

    def action_count(self) -> None:
        if not self.may_record():
            return
        key = uuid.uuid4().hex
        fields = [
            FormField("kg", t("Kilograms counted in the store"), placeholder="1,980.5"),
            FormField(
                "reason",
                t("Why it differs from the books"),
                choices=tuple((t(r), r) for r in LOSS_REASONS),
            ),
            FormField("note", t("Note (what happened)")),
        ]
        intro = f"{t('The books say')}: {kg(self.position.stock)}"
        form = RiceForm(
            t("Count the rice in store"), fields, lambda v: self.read_count(v, key), intro=intro
        )
        self.app.push_screen(form, self.count_entered)

    def read_count(self, v: dict[str, str], key: str) -> CountRequest:
        """A count that differs from the books needs its reason, asked here in the form
        rather than after the confirmation (the service refuses it without one too)."""
        grams = read_kg(v["kg"], zero_allowed=True)
        difference = grams - self.position.stock
        if difference and not v["reason"]:
            sentence = (
                "The count is {kg} over the books; choose why it differs."
                if difference > 0
                else "The count is {kg} short of the books; choose why it differs."
            )
            raise InvalidEntry(t(sentence).format(kg=kg(abs(difference))))
        return CountRequest(grams, v["reason"] or None, v["note"], key)

    def count_entered(self, req: CountRequest | None) -> None:
        if req is None:
            return
        expected = self.position.stock
        difference = req.grams - expected
        lines = [f"{t('Counted')}: {kg(req.grams)}", f"{t('The books say')}: {kg(expected)}"]
        if difference == 0:
            lines.append(t("The store agrees with the books."))
        else:
            what = t("A surplus") if difference > 0 else t("A loss")
            lines.append(f"{what}: {kg(abs(difference))} ({req.reason or '?'})")
        self.app.push_screen(
            Confirm(t("Record this stock count?"), "\n".join(lines)),
            lambda yes: self.post_count(req) if yes else None,
        )

    def post_count(self, req: CountRequest) -> None:
        today = self.sansam.today
        result = self.write(
            lambda s: count_stock(
                s,
                self.group_id,
                from_minor(req.grams, RICE),
                on=today,
                reason=req.reason,
                note=req.note,
                key=req.key,
                today=today,
            )
        )
        if result is not None:
            self.app.notify(
                t("Counted {counted}; the books said {expected}.").format(
                    counted=kg(result.counted), expected=kg(result.expected)
                )
            )
