"""After sign-in: the groups this user may read (nobody sees another group's name)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from ledger.groups import GroupRecord, list_groups
from ledger.summary import book_summary
from tui.words import t

if TYPE_CHECKING:
    from tui.app import SansamApp


class GroupsScreen(Screen[None]):
    BINDINGS = [
        Binding("enter", "open_group", "Open the group"),
        Binding("ctrl+r", "refresh", "Refresh"),
    ]

    @property
    def sansam(self) -> SansamApp:
        return cast("SansamApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="title", classes="title")
        yield DataTable(id="groups", cursor_type="row", zebra_stripes=True)
        yield Static("", id="empty", classes="hint")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Code", "Name", "Kind", "Meets", "Entries", "Last entry")
        self.action_refresh()

    def action_refresh(self) -> None:
        book = self.sansam.signed
        assert book is not None
        with book.read() as session:
            groups = list_groups(session)
            entries = {g.code: g for g in book_summary(session).groups}
        self.groups: list[GroupRecord] = groups
        table = self.query_one(DataTable)
        table.clear()
        for g in groups:
            summary = entries.get(g.code)
            table.add_row(
                g.code,
                g.name,
                g.kind,
                g.meeting_frequency,
                f"{summary.entries:,}" if summary else "0",
                summary.last_entry_date.isoformat() if summary and summary.last_entry_date else "-",
                key=str(g.id),
            )
        who = self.sansam.actor.display_name
        self.query_one("#title", Static).update(f"{t('Your groups')} — {who}")
        self.query_one("#empty", Static).update(
            ""
            if groups
            else t("You have no role in any group yet. Ask the administrator to give you one.")
        )
        if len(groups) == 1 and not getattr(self, "_opened_once", False):
            self._opened_once = True
            self.open(groups[0].id)

    def action_open_group(self) -> None:
        table = self.query_one(DataTable)
        if not self.groups or table.cursor_row < 0:
            return
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        assert key is not None
        self.open(int(key))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        assert event.row_key.value is not None
        self.open(int(event.row_key.value))

    def open(self, group_id: int) -> None:
        from tui.dashboard_screen import DashboardScreen

        self.app.push_screen(DashboardScreen(group_id))
