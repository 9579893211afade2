"""F1: the keys of the screen below, and how to reach everything else."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from tui.words import t

GENERAL = [
    ("Ctrl+P", "Command palette: type what you want to do"),
    ("F1", "This help"),
    ("Ctrl+L", "Lock the app (sign in again to come back)"),
    ("Esc", "Back to the screen before"),
    ("Ctrl+Q", "Quit (a meeting's sheet is kept as a draft)"),
    ("Tab / Shift+Tab", "Next / previous field"),
    ("Enter", "Confirm the field and move on"),
]


def key_name(key: str) -> str:
    """A key as written on the keyboard: "ctrl+r" as Ctrl+R, "m" as M."""
    return "+".join(part.capitalize() if len(part) > 1 else part.upper() for part in key.split("+"))


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "close", "Close")]

    def __init__(self, below: Screen[object]) -> None:
        super().__init__()
        self.below = below

    def compose(self) -> ComposeResult:
        rows = [
            (key_name(b.key), b.description)
            for b in getattr(self.below, "BINDINGS", [])
            if isinstance(b, Binding) and b.show
        ]
        text = [f"[b]{t('Keys on this screen')}[/]"]
        text += [f"  [b]{key:<16}[/] {t(what)}" for key, what in rows] or [f"  {t('None')}"]
        text += ["", f"[b]{t('Everywhere')}[/]"]
        text += [f"  [b]{key:<16}[/] {t(what)}" for key, what in GENERAL]
        with VerticalScroll(id="dialog"):
            yield Static("\n".join(text))
            yield Static(t("Press Esc to close."), classes="hint")

    def action_close(self) -> None:
        self.dismiss()
