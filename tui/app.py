"""The treasurer's terminal app: sign in, pick a group, see its dashboard, record a
meeting, and reach every other screen from there or from the command palette (Ctrl+P).

The app is thin over ``ledger`` services: every read is a ``Book.read`` and every change
one ``Book.write`` (all or nothing), signed in as the person at the keyboard. After
``idle_minutes`` without a key or a click it locks and returns to the sign-in screen;
whatever was on screen stays behind the lock (a meeting's sheet is a draft in the book
anyway). Unexpected failures go to the log file with their traceback, and the user sees
one plain sentence.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable
from pathlib import Path

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from ledger.db import Book
from ledger.permissions import Actor
from tui.app_settings import DEFAULT_IDLE_MINUTES
from tui.words import t

log = logging.getLogger("sansam.app")


def log_file() -> Path:
    """Where tracebacks go: the user's log directory, never the screen."""
    from platformdirs import user_log_path

    path = user_log_path("sansam", appauthor=False) / "sansam.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


class SansamApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "Sansam"
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("ctrl+l", "lock", "Lock"),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(
        self,
        book: Book,
        *,
        idle_minutes: float = DEFAULT_IDLE_MINUTES,
        today: dt.date | None = None,
    ) -> None:
        super().__init__()
        self.book = book  # nobody signed in: used only to sign in
        self.signed: Book | None = None  # the same book as the person at the keyboard
        self.idle_seconds = idle_minutes * 60
        self.fixed_today = today
        self._last_input = time.monotonic()
        self._locked = False
        self.sub_title = book.location

    # --- who is at the keyboard --------------------------------------------------------------

    @property
    def actor(self) -> Actor:
        assert self.signed is not None and self.signed.actor is not None
        return self.signed.actor

    @property
    def today(self) -> dt.date:
        return self.fixed_today or dt.date.today()

    def on_mount(self) -> None:
        from tui.sign_in import SignInScreen

        self.push_screen(SignInScreen())
        self.set_interval(5, self._check_idle)

    def signed_in(self, actor: Actor) -> None:
        """A user signed in at the first screen, or unlocked a locked app."""
        from tui.groups_screen import GroupsScreen

        same = (
            self.signed is not None
            and self.signed.actor is not None
            and (self.signed.actor.user_id == actor.user_id)
        )
        self.signed = self.book.as_user(actor)
        self._last_input = time.monotonic()
        self.sub_title = f"{actor.display_name} · {self.book.location}"
        if self._locked and same:
            self._locked = False
            self.pop_screen()  # back to whatever was on screen before the lock
            return
        self._locked = False
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(GroupsScreen())

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown) and not event.is_forwarded:
            self._last_input = time.monotonic()
        await super().on_event(event)

    def _check_idle(self) -> None:
        if self.signed is None or self._locked:
            return
        if time.monotonic() - self._last_input >= self.idle_seconds:
            self.action_lock()

    def action_lock(self) -> None:
        """Lock the app: the sign-in screen comes back over what was on screen."""
        from tui.sign_in import SignInScreen

        if self.signed is None or self._locked:
            return
        self._locked = True
        self.push_screen(SignInScreen(locked_by=self.actor.username))

    def action_help(self) -> None:
        from tui.help_screen import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    # --- the command palette -----------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette offers every action of the screen on top, and the app's own."""
        yield SystemCommand(t("Help: the keys of this screen"), t("Show help"), self.action_help)
        if self.signed is not None:
            yield SystemCommand(
                t("Lock the app"), t("Back to the sign-in screen"), self.action_lock
            )
        yield SystemCommand(t("Quit"), t("Close Sansam"), self.exit)
        for binding in screen.BINDINGS:
            if not isinstance(binding, Binding) or not binding.show:
                continue
            action = binding.action

            def run(action: str = action, screen: Screen = screen) -> None:
                self.call_later(screen.run_action, action)

            yield SystemCommand(t(binding.description), f"{t('Key')}: {binding.key}", run)

    # --- failures ----------------------------------------------------------------------------

    def _handle_exception(self, error: Exception) -> None:
        """Unexpected failures: the traceback to the log file, one sentence to the user."""
        path = log_file()
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(handler)
        try:
            log.error("unexpected error in the app", exc_info=error)
        finally:
            log.removeHandler(handler)
            handler.close()
        self._return_code = 1
        if self._exception is None:  # tests driving the app still see what went wrong
            self._exception = error
            self._exception_event.set()
        self.exit(
            return_code=1,
            message=(
                "Sansam stopped because of something it did not expect. Anything not yet "
                f"posted is kept as a draft. Details for support are in {path}."
            ),
        )


def run_app(book: Book, *, idle_minutes: float = DEFAULT_IDLE_MINUTES) -> int:
    app = SansamApp(book, idle_minutes=idle_minutes)
    app.run()
    return app.return_code or 0
