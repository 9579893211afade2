"""The first screen: user name, password or PIN, and the language of the screens.

The same screen locks the app after it has been left idle: then the user name is filled
in, and someone else signing in starts afresh from their own groups (nobody sees the
last person's screens).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Select, Static

from ledger.users import SignInRefused, sign_in
from tui.words import LANGUAGES, language, set_language, t

if TYPE_CHECKING:
    from tui.app import SansamApp


class SignInScreen(Screen[None]):
    BINDINGS = [("escape", "clear", "Clear")]

    def __init__(self, *, locked_by: str | None = None) -> None:
        super().__init__()
        self.locked_by = locked_by

    @property
    def sansam(self) -> SansamApp:
        return cast("SansamApp", self.app)

    def compose(self) -> ComposeResult:
        with Center(), Vertical(id="sign-in"):
            yield Label("Sansam", id="brand")
            if self.locked_by:
                yield Static(t("Locked after a while without use. Sign in again."), id="lock-note")
            yield Label(t("User name"))
            yield Input(value=self.locked_by or "", id="user", placeholder="sophea")
            yield Label(t("Password or PIN"))
            yield Input(password=True, id="secret")
            yield Label(t("Language"))
            yield Select(
                [(name, code) for code, name in LANGUAGES.items()],
                value=language(),
                allow_blank=False,
                id="language",
            )
            yield Button(t("Sign in"), variant="primary", id="go")
            yield Static("", id="error", classes="error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#secret" if self.locked_by else "#user", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "user":
            self.query_one("#secret", Input).focus()
        else:
            self.action_sign_in()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_sign_in()

    def action_clear(self) -> None:
        self.query_one("#secret", Input).value = ""
        self.query_one("#error", Static).update("")

    def action_sign_in(self) -> None:
        username = self.query_one("#user", Input).value.strip()
        secret = self.query_one("#secret", Input).value
        error = self.query_one("#error", Static)
        if not username or not secret:
            error.update(t("Type your user name and your password or PIN."))
            return
        try:
            actor = self.sansam.book.write(lambda s: sign_in(s, username, secret))
        except SignInRefused as exc:
            self.query_one("#secret", Input).value = ""
            error.update(t(str(exc)))
            return
        chosen = self.query_one("#language", Select).value
        set_language(str(chosen))
        self.sansam.signed_in(actor)
