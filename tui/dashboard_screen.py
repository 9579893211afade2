"""A group's dashboard: its money, loans and rice at a glance, what needs action, and
the keys to every other screen of the group."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.widgets import Footer, Header, Static

from ledger.dashboard import Dashboard, group_dashboard
from ledger.rice import kg
from tui.common import GroupScreen, date_text, money_text
from tui.words import t


def percent(value: object) -> str:
    return "-" if value is None else f"{float(value) * 100:.1f}%"  # display only


class DashboardScreen(GroupScreen):
    BINDINGS = [
        Binding("m", "meeting", "Meeting"),
        Binding("e", "members", "Members"),
        Binding("l", "loans", "Loans"),
        Binding("r", "rice", "Rice bank"),
        Binding("s", "shareout", "Share-out"),
        Binding("p", "reports", "Print"),
        Binding("a", "audit", "Audit"),
        Binding("i", "import_files", "Import"),
        Binding("ctrl+r", "refresh", "Refresh"),
        Binding("escape", "back", "Groups"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="title", classes="title")
        with Vertical(id="dashboard"):
            yield Grid(id="figures")
            yield Static("", id="warnings")
        yield Footer()

    def on_mount(self) -> None:
        self.action_refresh()

    def on_screen_resume(self) -> None:
        self.action_refresh()  # back from a meeting or a loan: show the new figures

    def action_refresh(self) -> None:
        book = self.sansam.signed
        assert book is not None
        with book.read() as session:
            board = group_dashboard(session, self.group_id, today=self.sansam.today)
        self.board = board
        group = board.position.group
        self.query_one("#title", Static).update(f"{group.code} · {group.name}")
        grid = self.query_one("#figures", Grid)
        grid.remove_children()
        grid.mount_all(
            Static(f"[dim]{t(label)}[/]\n[b]{value}[/]", classes="figure")
            for label, value in self.figures(board)
        )
        warnings = self.query_one("#warnings", Static)
        if board.warnings:
            lines = "\n".join(f"[b]![/] {t(w)}" for w in board.warnings)
            warnings.update(f"[b]{t('Needs action')}[/]\n{lines}")
            warnings.add_class("has-warnings")
        else:
            warnings.update(t("Nothing needs action."))
            warnings.remove_class("has-warnings")

    @staticmethod
    def figures(board: Dashboard) -> list[tuple[str, str]]:
        p, c = board.position, board.currency
        meeting = (
            f"#{board.open_meeting[0]} {board.open_meeting[1].isoformat()} (open)"
            if board.open_meeting
            else date_text(board.next_meeting)
        )
        return [
            ("Cash box", money_text(p.cash_box, c)),
            ("Bank", money_text(p.bank, c)),
            ("Total savings", money_text(p.total_savings, c)),
            ("Shares", money_text(p.shares_value, c)),
            ("Social fund", money_text(p.social_fund, c)),
            ("Loans outstanding", money_text(p.loans_outstanding, c)),
            ("Rice stock", kg(p.rice_stock_grams)),
            ("PAR30", percent(board.portfolio.par30)),
            ("Members in arrears", f"{board.members_in_arrears} / {p.members}"),
            ("Next meeting", meeting),
            ("Last meeting", date_text(p.last_meeting)),
            ("Meetings held", str(p.meetings_held)),
        ]

    def _open(self, module: str, name: str) -> None:
        import importlib

        screen = getattr(importlib.import_module(module), name)
        self.app.push_screen(screen(self.group_id))

    def action_meeting(self) -> None:
        self._open("tui.meeting_screen", "MeetingScreen")

    def action_members(self) -> None:
        self._open("tui.members_screen", "MembersScreen")

    def action_loans(self) -> None:
        self._open("tui.loans_screen", "LoansScreen")

    def action_rice(self) -> None:
        self._open("tui.rice_screen", "RiceScreen")

    def action_shareout(self) -> None:
        self._open("tui.shareout_screen", "ShareoutScreen")

    def action_reports(self) -> None:
        self._open("tui.reports_screen", "ReportsScreen")

    def action_audit(self) -> None:
        self._open("tui.audit_screen", "AuditScreen")

    def action_import_files(self) -> None:
        self._open("tui.import_screen", "ImportScreen")
