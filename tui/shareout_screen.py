"""The share-out at the end of a cycle: what every member takes home, worked out on
``app.today`` with the choices the group made (profit by whole shares or by savings ×
time, loans deducted from payouts or not, the smallest note paid out), and posting it.

The preview writes nothing (``plan_shareout``); a cycle that cannot be shared out yet
(a meeting still open, loans still owed, a date before the last entry...) shows the
ledger's own sentence in place of the table. Posting asks ``Confirm`` with the totals,
then ``post_shareout`` works it out again inside the same unit of work: if the figures
are no longer those the chair saw (someone recorded something meanwhile), nothing is
posted and she is asked to look again. After posting, the cycle and the books up to that
day are closed, and the screen shows the hash to write in the minutes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal
from textual.widgets import Checkbox, DataTable, Footer, Header, Input, Label, Select, Static

from ledger.cycles import current_cycle
from ledger.errors import InvalidEntry, LedgerError
from ledger.groups import GroupRecord, get_group
from ledger.shareout import (
    DEFAULT_CASH_UNIT,
    PostedShareout,
    ShareoutError,
    ShareoutPlan,
    plan_shareout,
    post_shareout,
    value_text,
)
from tui.common import Confirm, GroupScreen, amount_text, attempt, money_text, read_amount
from tui.words import t

METHOD_WORDS = {
    "shares": "By whole shares",
    "savings_time": "By savings x time",
}
METHOD_SENTENCES = {
    "shares": "Profit shared by whole shares.",
    "savings_time": "Profit shared by savings x days held.",
}


def plan_figures(plan: ShareoutPlan) -> tuple[object, ...]:
    """What the chair approves when she says yes: the pool and every member's payout
    and loans settled. Posting refuses if these changed since she saw them."""
    return (
        plan.cycle_id,
        plan.pool,
        tuple((line.member_id, line.payout, line.deducted) for line in plan.lines),
    )


class ShareoutScreen(GroupScreen):
    BINDINGS = [
        Binding("p", "post", "Post the share-out"),
        Binding("m", "toggle_method", "Shares / savings x time"),
        Binding("d", "toggle_deduct", "Deduct loans"),
        Binding("u", "cash_unit", "Smallest payout unit"),
        Binding("ctrl+r", "refresh", "Work out again"),
        Binding("escape", "back", "Dashboard"),
    ]
    DEFAULT_CSS = """
    ShareoutScreen #terms { height: auto; padding: 0 1; }
    ShareoutScreen #terms Label { padding: 0 1 0 2; }
    ShareoutScreen #method { width: 24; }
    ShareoutScreen #unit { width: 12; }
    ShareoutScreen #shareout-about { height: auto; }
    ShareoutScreen #shareout-refusal { height: auto; padding: 0 1; margin: 1 0; display: none; }
    ShareoutScreen #shareout-posted {
        height: auto; padding: 0 1; color: $success; text-style: bold;
    }
    """

    def __init__(self, group_id: int) -> None:
        super().__init__(group_id)
        self.plan: ShareoutPlan | None = None
        self.refusal = ""
        self.posted: PostedShareout | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="title", classes="title")
        with Horizontal(id="terms"):
            yield Select(
                [(t(words), method) for method, words in METHOD_WORDS.items()],
                value="shares",
                allow_blank=False,
                compact=True,
                id="method",
            )
            yield Checkbox(t("Deduct loans"), compact=True, id="deduct")
            yield Label(t("Round down to"))
            yield Input(compact=True, id="unit")
        yield Grid(id="figures")
        yield Static("", id="shareout-about", classes="hint")
        yield Static("", id="shareout-refusal", classes="error")
        yield DataTable(id="payouts", cursor_type="row", zebra_stripes=True)
        yield Static("", id="shareout-posted")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(
            "Code", "Name", "Shares", "Held", "Earned", "Loans", "Payout"
        )
        book = self.sansam.signed
        assert book is not None
        with book.read() as session:
            self.group: GroupRecord = get_group(session, self.group_id)
            cycle = current_cycle(session, self.group_id, required=False)
        self.query_one("#unit", Input).placeholder = amount_text(
            DEFAULT_CASH_UNIT.get(self.group.currency, 1), self.group.currency
        )
        if cycle is not None and not cycle.share_price:
            # No shares in this cycle (an SHG): only savings x time can share its profit.
            self.query_one("#method", Select).value = "savings_time"
        self.action_refresh()
        self.query_one(DataTable).focus()

    # --- the choices -----------------------------------------------------------------------

    def terms(self) -> dict[str, Any]:
        """The share-out's options as chosen on screen; a bad cash unit is refused."""
        text = self.query_one("#unit", Input).value
        unit = read_amount(text, self.group.currency) if text.strip() else None
        if unit is not None and unit < 1:
            raise InvalidEntry(t("The smallest amount paid out must be more than 0."))
        today = self.sansam.today
        return {
            "on": today,
            "method": str(self.query_one("#method", Select).value),
            "deduct_loans": self.query_one("#deduct", Checkbox).value,
            "cash_unit": unit,
            "today": today,
        }

    def on_select_changed(self, event: Select.Changed) -> None:
        self.action_refresh()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self.action_refresh()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_refresh()
        self.query_one(DataTable).focus()

    def action_toggle_method(self) -> None:
        method = self.query_one("#method", Select)
        method.value = "savings_time" if method.value == "shares" else "shares"

    def action_toggle_deduct(self) -> None:
        self.query_one("#deduct", Checkbox).toggle()

    def action_cash_unit(self) -> None:
        self.query_one("#unit", Input).focus()

    # --- the preview -----------------------------------------------------------------------

    def action_refresh(self) -> None:
        if self.posted is not None or not hasattr(self, "group"):
            return  # what was posted stays on screen; Esc goes back
        book = self.sansam.signed
        assert book is not None
        title = f"{t('Share-out')} · {self.group.code} · {self.group.name}"
        self.query_one("#title", Static).update(title)
        try:
            terms = self.terms()
            with book.read() as session:
                plan = plan_shareout(session, self.group_id, **terms)
        except LedgerError as exc:
            self.show_refusal(str(exc))
            return
        self.show_plan(plan)

    def show_refusal(self, message: str) -> None:
        self.plan, self.refusal = None, message
        self.query_one("#figures", Grid).remove_children()
        self.query_one("#shareout-about", Static).update("")
        refusal = self.query_one("#shareout-refusal", Static)
        refusal.update(f"{t('This cycle cannot be shared out as chosen:')}\n{message}")
        refusal.display = True
        self.query_one(DataTable).clear()

    def show_plan(self, plan: ShareoutPlan) -> None:
        self.plan = plan
        self.query_one("#shareout-refusal", Static).display = False
        grid = self.query_one("#figures", Grid)
        grid.remove_children()
        grid.mount_all(
            Static(f"[dim]{t(label)}[/]\n[b]{value}[/]", classes="figure")
            for label, value in self.figures(plan)
        )
        self.query_one("#shareout-about", Static).update(self.about(plan))
        self.fill_table(plan)

    @staticmethod
    def figures(plan: ShareoutPlan) -> list[tuple[str, str]]:
        c = plan.currency
        share = value_text(plan.value_per_share, c)
        return [
            ("Savings, shares", money_text(plan.holdings, c)),
            ("Profit of cycle", money_text(plan.profit, c)),
            ("Pool", money_text(plan.pool, c)),
            ("Value of a share", f"{Decimal(share):,} {c}" if share else "-"),
            ("Paid in cash", money_text(plan.distributed, c)),
            ("Loans deducted", money_text(plan.deducted, c)),
            ("Leftover (kept)", money_text(plan.leftover, c)),
            ("Social fund kept", money_text(plan.social_fund, c)),
        ]

    @staticmethod
    def about(plan: ShareoutPlan) -> str:
        c = plan.currency
        parts = [
            t("Cycle {number} since {start}, shared out on {on}.").format(
                number=plan.cycle_number,
                start=plan.cycle_starts_on.isoformat(),
                on=plan.on.isoformat(),
            ),
            t(METHOD_SENTENCES[plan.method]),
            t("Payouts are rounded down to {unit}.").format(unit=money_text(plan.cash_unit, c)),
        ]
        if plan.spent_on_rice:
            parts.append(
                t("Spent on rice, net: {money} (the rice stays in the rice bank).").format(
                    money=money_text(plan.spent_on_rice, c)
                )
            )
        return " ".join(parts)

    def fill_table(self, plan: ShareoutPlan) -> None:
        c = plan.currency
        table = self.query_one(DataTable)
        table.clear()
        for line in plan.lines:
            table.add_row(
                line.code,
                line.name_latin,
                "-" if line.shares is None else str(line.shares),
                amount_text(line.held, c),
                amount_text(line.earned, c),
                amount_text(line.deducted, c),
                amount_text(line.payout, c),
                key=str(line.member_id),
            )
        shares = plan.total_shares
        table.add_row(
            "TOTAL",
            f"{len(plan.lines)} members",
            "-" if shares is None else str(shares),
            amount_text(sum(line.held for line in plan.lines), c),
            amount_text(sum(line.earned for line in plan.lines), c),
            amount_text(plan.deducted, c),
            amount_text(plan.distributed, c),
            key="total",
        )

    # --- posting ---------------------------------------------------------------------------

    def action_post(self) -> None:
        if self.posted is not None:
            self.app.notify(t("This share-out is posted already."), severity="warning")
            return
        if self.plan is None:
            self.app.notify(self.refusal, title=t("Nothing to post"), severity="error", timeout=10)
            return
        if not self.sansam.actor.may("decide", self.group_id):
            self.app.notify(
                t("Only the group's chair posts the share-out: ask her to sign in and post it."),
                title=t("Not done"),
                severity="error",
            )
            return
        plan = self.plan
        self.app.push_screen(
            Confirm(t("Post the share-out and close the cycle?"), self.confirm_detail(plan)),
            lambda yes: self.post(plan) if yes else None,
        )

    def confirm_detail(self, plan: ShareoutPlan) -> str:
        c = plan.currency
        lines = [
            f"{plan.group_code}, {t('cycle')} {plan.cycle_number}, {plan.on.isoformat()}",
            t(METHOD_SENTENCES[plan.method]),
            f"{t('Pool')}: {money_text(plan.pool, c)}",
            f"{t('Paid out in cash')}: {money_text(plan.distributed, c)} "
            f"({len(plan.lines)} {t('members')})",
        ]
        if plan.deducted:
            lines.append(f"{t('Loans deducted')}: {money_text(plan.deducted, c)}")
        lines += [
            f"{t('Leftover (kept)')}: {money_text(plan.leftover, c)}",
            f"{t('Social fund kept')}: {money_text(plan.social_fund, c)}",
            "",
            t("The cycle closes and the books are closed through this day. It cannot be undone."),
        ]
        return "\n".join(lines)

    def post(self, shown: ShareoutPlan) -> None:
        book = self.sansam.signed
        assert book is not None
        try:
            terms = self.terms()
        except LedgerError as exc:
            self.show_refusal(str(exc))
            return

        def work(session: Session) -> PostedShareout:
            fresh = plan_shareout(session, self.group_id, **terms)
            if plan_figures(fresh) != plan_figures(shown):
                raise ShareoutError(
                    t(
                        "The figures changed since they were shown (something was recorded "
                        "meanwhile). Nothing is posted: look at them again and post again."
                    )
                )
            return post_shareout(session, self.group_id, **terms)

        posted = attempt(self.sansam, lambda: book.write(work))
        if posted is None:
            self.action_refresh()
            return
        self.show_plan(posted.plan)
        self.posted = posted
        for widget in self.query("#terms > *"):
            widget.disabled = True
        close = posted.close
        self.query_one("#shareout-posted", Static).update(
            t(
                "Posted. Cycle {number} is closed and the books are closed through {day}. "
                "Write in the minutes: entry #{seq}, hash {hash}."
            ).format(
                number=posted.plan.cycle_number,
                day=close.closed_through.isoformat(),
                seq=close.head_seq,
                hash=close.head_hash,
            )
        )
        self.app.notify(t("The share-out is posted and the cycle is closed."))
