"""Driving the terminal app in tests: its users, signing in through the real screen, and
reading what a screen shows."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from ledger.db import Book
from ledger.users import create_user, grant_role
from tests.conftest import DEMO_TODAY
from tui.app import SansamApp

PASSWORD = "kampot-pepper-2026"
ACHM, BKNG, PUOK = "SR-ACHM-01", "SR-BKNG-01", "SR-PUOK-01"
# user -> (name, roles per group); sophea is the administrator.
USERS: dict[str, tuple[str, dict[str, tuple[str, ...]]]] = {
    "sophea": ("Sophea Chum", {g: ("treasurer", "coordinator") for g in (ACHM, BKNG, PUOK)}),
    "dara": ("Dara Keo", {ACHM: ("treasurer",)}),
    "chan": ("Chan Sok", {ACHM: ("chair",)}),
    "vanna": ("Vanna Lim", {g: ("coordinator",) for g in (ACHM, BKNG, PUOK)}),
}


def add_app_users(book: Book) -> None:
    def work(session):  # type: ignore[no-untyped-def]
        admin = create_user(
            session, "sophea", USERS["sophea"][0], PASSWORD, is_admin=True, created_by=None
        )
        for name, (full, roles) in USERS.items():
            if name != "sophea":
                create_user(session, name, full, PASSWORD, created_by=admin)
            for group, granted in roles.items():
                for role in granted:
                    grant_role(session, admin, name, group, role)

    book.write(work)


def make_app(book: Book, **kwargs: object) -> SansamApp:
    return SansamApp(book, today=DEMO_TODAY, **kwargs)  # type: ignore[arg-type]


async def sign_in(
    pilot: Pilot, user: str = "sophea", password: str = PASSWORD, *, typed: bool = False
) -> None:
    """Sign in through the sign-in screen. ``typed``: key by key, as a person does (the
    sign-in tests); otherwise the two fields are filled and Enter pressed, which saves a
    second per test across the app's tests."""
    if typed:
        await pilot.click("#user")
        await pilot.press(*user, "enter")
        await pilot.press(*password, "enter")
    else:
        screen = pilot.app.screen
        screen.query_one("#user", Input).value = user
        secret = screen.query_one("#secret", Input)
        secret.value = password
        secret.focus()
        await pilot.pause()
        await pilot.press("enter")
    await pilot.pause()


def screen_text(pilot: Pilot) -> str:
    """Every Static's text and every table cell on the current screen, one per line."""
    screen = pilot.app.screen
    parts = [str(w.render()) for w in screen.query(Static)]
    for table in screen.query(DataTable):
        for row in range(table.row_count):
            parts.append(" | ".join(str(c) for c in table.get_row_at(row)))
    return "\n".join(parts)


def table_rows(pilot: Pilot, selector: str = "DataTable") -> list[list[str]]:
    table = pilot.app.screen.query_one(selector, DataTable)
    return [[str(c) for c in table.get_row_at(r)] for r in range(table.row_count)]
