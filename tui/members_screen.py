"""A group's members: who they are and where each stands, and one member's position,
history and loans.

The list is read from the database a page at a time (a federation's group can have
hundreds of members), and the search box filters in the database as the treasurer
types, by code or by name. Each page is read in a worker so typing never waits for it.
Enter on a member opens her detail: the figures of ``member_position``, the movements of
her accounts in the current cycle with running balances (``member_statement``) and her
loans. Phone and ID-Poor numbers appear only for the roles that may see them: the
services already leave them out for the others (``MemberRecord.personal_hidden``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from rich.text import Text
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid
from textual.widgets import DataTable, Footer, Header, Input, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from ledger.cycles import current_cycle
from ledger.errors import LedgerError
from ledger.groups import GroupRecord, get_group
from ledger.loans import LoanRecord, loans_of_member
from ledger.member_statement import AccountSection, MemberStatement, member_statement
from ledger.members import MemberRecord, get_member
from ledger.models import Member
from ledger.permissions import allow
from ledger.positions import MemberPosition, member_position
from ledger.rice import kg
from tui.common import GroupScreen, amount_text, date_text, money_text
from tui.words import t

PAGE_SIZE = 20


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberPage:
    """One page of the members matching a search, with where it sits in the whole list."""

    positions: tuple[MemberPosition, ...]
    matching: int  # members matching the search, on every page
    offset: int
    size: int

    @property
    def number(self) -> int:
        return self.offset // self.size + 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.matching // self.size))


def _matching(group_id: int, search: str) -> ColumnElement[bool]:
    """Members of the group whose code or name (either script) contains ``search``,
    ignoring case; ``%`` and ``_`` typed by the user are plain characters."""
    where: ColumnElement[bool] = Member.group_id == group_id
    text = search.strip()
    if text:
        where &= or_(
            Member.code.icontains(text, autoescape=True),
            Member.name_latin.icontains(text, autoescape=True),
            Member.name_khmer.icontains(text, autoescape=True),
        )
    return where


def member_page(
    session: Session, group_id: int, search: str, offset: int, size: int = PAGE_SIZE
) -> MemberPage:
    """A page of members in code order with their positions: two queries for the page
    (count and ids, LIMIT/OFFSET in the database), then one position per member shown.
    Refused, like every read, for a user with no role in the group."""
    allow(session, "read", group_id)
    where = _matching(group_id, search)
    matching = session.execute(select(func.count()).select_from(Member).where(where)).scalar_one()
    offset = max(0, min(offset, (max(matching, 1) - 1) // size * size))
    ids = (
        session.execute(
            select(Member.id).where(where).order_by(Member.code).limit(size).offset(offset)
        )
        .scalars()
        .all()
    )
    positions = tuple(member_position(session, member_id) for member_id in ids)
    return MemberPage(positions, matching, offset, size)


@dataclass(frozen=True, slots=True)
class MemberDetail:
    """Everything the detail screen shows, read in one unit of work."""

    position: MemberPosition
    statement: MemberStatement
    loans: tuple[LoanRecord, ...]


def member_detail(session: Session, group_id: int, member_id: int, today: dt.date) -> MemberDetail:
    """The member's position, her statement for the current cycle up to ``today`` (from
    the day she joined when no cycle is open), and all her loans."""
    member = get_member(session, member_id)
    if member.group_id != group_id:
        raise LedgerError(t("This member belongs to another group."))
    cycle = current_cycle(session, group_id, required=False)
    start = cycle.starts_on if cycle else (member.joined_on or today)
    statement = member_statement(session, group_id, member.code, min(start, today), today)
    return MemberDetail(
        member_position(session, member_id), statement, tuple(loans_of_member(session, member_id))
    )


# --- cells -----------------------------------------------------------------------------------


def right(text: str, style: str = "") -> Text:
    return Text(text, style=style, justify="right")


def member_cells(p: MemberPosition) -> list[str | Text]:
    """One row of the list: members who left are marked, and shown dimmed."""
    m = p.member
    style = "dim" if m.exited_on else ""
    name = f"{m.name_latin} (left)" if m.exited_on else m.name_latin
    return [
        Text(m.code, style=style),
        Text(name, style=style),
        Text(m.sex, style=style),
        Text(date_text(m.joined_on), style=style),
        Text(date_text(m.exited_on), style=style),
        right(amount_text(p.total_savings, p.currency), style),
        right(str(p.shares), style),
        right(amount_text(p.loans_outstanding, p.currency), style),
    ]


def short_memo(memo: str, member: MemberRecord) -> str:
    """A movement's memo without the member's own code and name (the screen is hers)."""
    memo = memo.replace(f": {member.code} {member.name_latin}", "")
    return memo.replace(f": {member.code} ", ": ").strip() or "-"


def signed_text(amount: int, commodity: str) -> str:
    text = kg(abs(amount)) if commodity == "RICE" else amount_text(abs(amount), commodity)
    return ("+" if amount >= 0 else "-") + text


def balance_text(amount: int, commodity: str) -> str:
    return kg(amount) if commodity == "RICE" else amount_text(amount, commodity)


def history_rows(statement: MemberStatement) -> Iterator[list[str | Text]]:
    """Account by account, as a passbook reads: the opening balance, then each movement
    with the balance after it. Accounts with nothing in the period are left out. The
    memo comes last: it is the long one, and may run off the edge."""
    sections: list[AccountSection] = list(statement.savings)
    sections += [s.principal for s in statement.loans]
    sections += [s.principal for s in statement.rice]
    for section in sections:
        if not section.opening and not section.movements:
            continue
        # Savings accounts by their title; each loan by its number ("Loan 3").
        title = section.key.capitalize() if section.key[-1].isdigit() else section.title
        yield [
            Text(title, style="bold"),
            date_text(statement.start),
            "",
            right(""),
            right(balance_text(section.opening, section.commodity)),
            Text("Opening balance", style="italic"),
        ]
        for move in section.movements:
            yield [
                title,
                date_text(move.on),
                str(move.seq),
                right(signed_text(move.amount, section.commodity)),
                right(balance_text(move.running, section.commodity)),
                short_memo(move.memo, statement.member),
            ]


def loan_cells(loan: LoanRecord, statement: MemberStatement, currency: str) -> list[str | Text]:
    """A loan as the member knows it; what it owes comes from the statement's own
    reading of the loan on its last day."""
    standing = {s.loan.loan.number: s.loan for s in statement.loans}.get(loan.number)
    if standing is not None:
        owed = amount_text(standing.owed_now, currency)
        late = str(standing.days_overdue) if standing.days_overdue else "-"
    else:
        owed = amount_text(0, currency) if loan.status in ("closed", "written_off") else "-"
        late = "-"
    return [
        str(loan.number),
        loan.product_code,
        right(amount_text(loan.principal_lent, currency)),
        date_text(loan.starts_on),
        loan.status.replace("_", " ") + (" (rescheduled)" if loan.rescheduled else ""),
        right(owed),
        right(late),
        loan.purpose or "-",
    ]


# --- the list --------------------------------------------------------------------------------


class MembersScreen(GroupScreen):
    """The group's members, a page at a time, with a search box on top."""

    DEFAULT_CSS = """
    MembersScreen #search {
        margin: 0 1;
    }
    MembersScreen #refusal {
        padding: 0 1;
        height: auto;
        display: none;
    }
    """
    BINDINGS = [
        Binding("enter", "open_member", "Open the member"),
        Binding("ctrl+f", "search", "Search by code or name"),
        Binding("pagedown", "next_page", "Next page", priority=True),
        Binding("pageup", "previous_page", "Previous page", priority=True),
        Binding("down", "to_list", "To the list", show=False),
        Binding("ctrl+r", "refresh", "Refresh"),
        Binding("escape", "back", "Dashboard"),
    ]
    page_size = PAGE_SIZE

    def __init__(self, group_id: int) -> None:
        super().__init__(group_id)
        self.group: GroupRecord | None = None
        self.page: MemberPage | None = None
        self.first_row = 0

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(t("Members"), id="title", classes="title")
        yield Input(placeholder=t("Search by code or name"), id="search")
        yield Static("", id="refusal", classes="error")
        yield DataTable(id="members", cursor_type="row", zebra_stripes=True)
        yield Static("", id="page", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        book = self.sansam.signed
        assert book is not None
        try:
            with book.read() as session:
                self.group = get_group(session, self.group_id)
        except LedgerError as refusal:
            self.refuse(str(refusal))
            return
        c = self.group.currency
        self.query_one("#title", Static).update(f"{self.group.code} · {t('Members')}")
        self.query_one(DataTable).add_columns(
            "Code", "Name", "Sex", "Joined", "Left", f"Savings {c}", "Shares", f"Loans {c}"
        )
        self.query_one("#search", Input).focus()
        self.load()

    def on_screen_resume(self) -> None:
        if self.page is not None:
            self.load()  # back from a member: her figures may have changed meanwhile

    def refuse(self, message: str) -> None:
        """Show a refusal in place of the list (nothing of the group is shown)."""
        if not self.is_attached:
            return
        refusal = self.query_one("#refusal", Static)
        refusal.update(message)
        refusal.display = True
        self.query_one("#search", Input).disabled = True
        self.query_one(DataTable).display = False

    # --- reading a page ---

    @property
    def search(self) -> str:
        return self.query_one("#search", Input).value

    def load(self) -> None:
        if self.group is None:
            return
        self.query_one(DataTable).loading = True
        self.read_page(self.search, self.first_row)

    @work(thread=True, exclusive=True, group="members-page")
    def read_page(self, search: str, offset: int) -> None:
        """Read one page in a thread; a page overtaken by newer typing is dropped."""
        worker = get_current_worker()
        book = self.sansam.signed
        assert book is not None
        try:
            with book.read() as session:
                page = member_page(session, self.group_id, search, offset, self.page_size)
        except LedgerError as refusal:
            if not worker.is_cancelled:
                self.app.call_from_thread(self.refuse, str(refusal))
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self.show_page, page, search)

    def show_page(self, page: MemberPage, search: str) -> None:
        if not self.is_attached:
            return  # the user left the screen while the page was read
        if search != self.search:
            return  # the user typed on while this page was read; a newer one is coming
        self.page, self.first_row = page, page.offset
        table = self.query_one(DataTable)
        table.loading = False
        table.clear()
        for p in page.positions:
            table.add_row(*member_cells(p), key=str(p.member.id))
        self.query_one("#page", Static).update(self.page_hint(page, search))

    @staticmethod
    def page_hint(page: MemberPage, search: str) -> str:
        if not page.matching:
            if search.strip():
                return t("No member's code or name contains “{text}”.").format(text=search.strip())
            return t("This group has no members yet.")
        where = t("Members {first}–{last} of {total}").format(
            first=page.offset + 1, last=page.offset + len(page.positions), total=page.matching
        )
        hints = [where, t("Page {number}/{pages}").format(number=page.number, pages=page.pages)]
        if page.pages > 1:
            hints.append(t("PgDn/PgUp: other pages"))
        hints.append(t("Enter: open the member"))
        return " · ".join(hints)

    # --- the user's actions ---

    @on(Input.Changed, "#search")
    def search_changed(self) -> None:
        self.first_row = 0
        self.load()

    @on(Input.Submitted, "#search")
    def search_submitted(self) -> None:
        """Enter in the search box: straight to the member when only one matches."""
        if self.page is not None and len(self.page.positions) == 1:
            self.open(self.page.positions[0].member.id)
        else:
            self.action_to_list()

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_to_list(self) -> None:
        self.query_one(DataTable).focus()

    def action_next_page(self) -> None:
        if self.page is not None and self.page.number < self.page.pages:
            self.first_row = self.page.offset + self.page.size
            self.load()

    def action_previous_page(self) -> None:
        if self.page is not None and self.page.offset > 0:
            self.first_row = max(0, self.page.offset - self.page.size)
            self.load()

    def action_refresh(self) -> None:
        self.load()

    def action_open_member(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count and table.cursor_row >= 0:
            key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
            assert key is not None
            self.open(int(key))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        assert event.row_key.value is not None
        self.open(int(event.row_key.value))

    def open(self, member_id: int) -> None:
        self.app.push_screen(MemberScreen(self.group_id, member_id))


# --- one member ------------------------------------------------------------------------------


class MemberScreen(GroupScreen):
    """One member: her position, the movements of her accounts this cycle, her loans."""

    DEFAULT_CSS = """
    MemberScreen #about {
        padding: 0 1;
        height: auto;
    }
    MemberScreen #position {
        grid-size: 3;
        grid-gutter: 0 1;
        height: auto;
        padding: 0 1;
    }
    MemberScreen #period {
        height: auto;
    }
    MemberScreen TabbedContent {
        height: 1fr;
    }
    MemberScreen TabPane {
        padding: 0;
    }
    """
    BINDINGS = [
        Binding("p", "tab('position')", "Position"),
        Binding("h", "tab('history')", "History"),
        Binding("l", "tab('loans')", "Loans"),
        Binding("ctrl+r", "refresh", "Refresh"),
        Binding("escape", "back", "Members"),
    ]

    def __init__(self, group_id: int, member_id: int) -> None:
        super().__init__(group_id)
        self.member_id = member_id
        self.detail: MemberDetail | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(t("Member"), id="title", classes="title")
        yield Static("", id="about")
        with TabbedContent(id="tabs"):
            with TabPane(t("Position"), id="position-tab"):
                yield Grid(id="position")
            with TabPane(t("History"), id="history-tab"):
                yield Static("", id="period", classes="hint")
                yield DataTable(id="history", cursor_type="row", zebra_stripes=True)
            with TabPane(t("Loans"), id="loans-tab"):
                yield DataTable(id="loans", cursor_type="row", zebra_stripes=True)
                yield Static("", id="no-loans", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#history", DataTable).add_columns(
            "Account", "Date", "Entry", "Change", "Balance", "What"
        )
        self.query_one("#loans", DataTable).add_columns(
            "No.", "Product", "Lent", "Lent on", "Status", "Owed now", "Days late", "Purpose"
        )
        self.action_refresh()

    def action_refresh(self) -> None:
        self.query_one("#tabs", TabbedContent).loading = True
        self.read_detail()

    @work(thread=True, exclusive=True, group="member-detail")
    def read_detail(self) -> None:
        """Her statement reads every movement of the cycle: done in a thread."""
        book = self.sansam.signed
        assert book is not None
        today = self.sansam.today
        try:
            with book.read() as session:
                detail = member_detail(session, self.group_id, self.member_id, today)
        except LedgerError as refusal:
            self.app.call_from_thread(self.refuse, str(refusal))
            return
        self.app.call_from_thread(self.show, detail)

    def refuse(self, message: str) -> None:
        if not self.is_attached:
            return
        self.query_one("#tabs", TabbedContent).display = False
        about = self.query_one("#about", Static)
        about.add_class("error")
        about.update(message)

    def show(self, detail: MemberDetail) -> None:
        if not self.is_attached:
            return  # the user went back while her history was read
        self.detail = detail
        m, group = detail.position.member, detail.statement.group
        left = f" ({t('left on {day}').format(day=date_text(m.exited_on))})" if m.exited_on else ""
        self.query_one("#title", Static).update(f"{m.code} · {m.name_latin}{left} · {group.code}")
        self.query_one("#about", Static).update("\n".join(self.about_lines(m)))
        self.show_position(detail.position)
        self.show_history(detail.statement)
        self.show_loans(detail)
        self.query_one("#tabs", TabbedContent).loading = False

    @staticmethod
    def about_lines(m: MemberRecord) -> list[str]:
        """Who she is. Phone and ID-Poor number only when the reader's role may see
        them; the service has left them out otherwise, and the screen says so."""
        lines = [m.name_khmer] if m.name_khmer else []
        facts = [
            f"{t('Sex')} {m.sex}",
            f"{t('Role')} {t(m.role)}",
            f"{t('Joined')} {date_text(m.joined_on)}",
        ]
        if m.exited_on:
            facts.append(f"{t('Left')} {date_text(m.exited_on)}")
        if m.household:
            facts.append(f"{t('Household')} {m.household}")
        lines.append(" · ".join(facts))
        if m.personal_hidden:
            lines.append(f"[dim]{t('Phone and ID-Poor number are not shown to your role.')}[/]")
        else:
            id_poor = f"{m.id_poor} ({m.id_poor_number})" if m.id_poor_number else str(m.id_poor)
            personal = [f"{t('Phone')} {m.phone or '-'}", f"{t('ID-Poor')} {id_poor or '-'}"]
            lines.append(" · ".join(personal))
        return lines

    def show_position(self, p: MemberPosition) -> None:
        grid = self.query_one("#position", Grid)
        grid.remove_children()
        grid.mount_all(
            Static(f"[dim]{t(label)}[/]\n[b]{value}[/]", classes="figure")
            for label, value in self.figures(p)
        )

    @staticmethod
    def figures(p: MemberPosition) -> list[tuple[str, str]]:
        c = p.currency
        return [
            ("Compulsory savings", money_text(p.compulsory_savings, c)),
            ("Voluntary savings", money_text(p.voluntary_savings, c)),
            ("Total savings", money_text(p.total_savings, c)),
            ("Shares", f"{p.shares} = {money_text(p.shares_value, c)}"),
            ("Share money held", money_text(p.share_money_held, c)),
            ("Social fund paid", money_text(p.social_fund_paid, c)),
            ("Fines paid", money_text(p.fines_paid, c)),
            ("Loans outstanding", money_text(p.loans_outstanding, c)),
            ("Meetings attended", f"{p.meetings_attended} / {p.meetings_held}"),
        ]

    def show_history(self, statement: MemberStatement) -> None:
        self.query_one("#period", Static).update(
            f"{t('This cycle')}: {date_text(statement.start)} – {date_text(statement.end)}"
        )
        table = self.query_one("#history", DataTable)
        table.clear()
        for row in history_rows(statement):
            table.add_row(*row)

    def show_loans(self, detail: MemberDetail) -> None:
        table = self.query_one("#loans", DataTable)
        table.clear()
        for loan in detail.loans:
            table.add_row(*loan_cells(loan, detail.statement, detail.position.currency))
        self.query_one("#no-loans", Static).update("" if detail.loans else t("No loans."))

    def action_tab(self, tab: str) -> None:
        """Show a tab and put the cursor in its table, so the arrows scroll it."""
        self.query_one("#tabs", TabbedContent).active = f"{tab}-tab"
        tables = self.query_one(f"#{tab}-tab", TabPane).query(DataTable)
        if tables:
            tables.first().focus()
