"""`?`: every key of the screen you were on, from its active bindings (so a remapped key in
keymap.toml shows as remapped), with each binding's id for the keymap."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from csm_tui.screens.base import ReportsWorkerErrors


def key_label(app, key: str) -> str:
    """A key as the footer shows it (e.g. "question_mark" → "?")."""
    return app.get_key_display(Binding(key, ""))


class HelpScreen(ReportsWorkerErrors, ModalScreen[None]):
    """The keys of `screen`; escape or ? closes."""

    BINDINGS = [
        Binding("escape,question_mark,q", "close", "Close", id="help.close"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90; max-width: 100%; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1; }
    """

    def __init__(self, screen: Screen, active_bindings: list) -> None:
        super().__init__()
        self.for_screen = screen
        self.active = active_bindings

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(self._table(), id="keys")

    def _table(self) -> Table:
        title = getattr(self.for_screen, "SCREEN_TITLE", None) or type(self.for_screen).__name__
        table = Table(title=f"Keys — {title.removesuffix('Screen')}", expand=True, box=None)
        table.add_column("Key", style="bold", no_wrap=True)
        table.add_column("Does")
        table.add_column("Keymap id", style="dim", no_wrap=True)
        seen = set()
        for active in self.active:
            binding = active.binding
            if not active.enabled or not binding.description:
                continue
            row = (key_label(self.app, binding.key), binding.description, binding.id or "")
            if row in seen:
                continue
            seen.add(row)
            table.add_row(*row)
        table.add_row("ctrl+p", "Command palette: quick actions, accounts by name", "")
        table.caption = Text('Remap any key in keymap.toml (config dir): "id" = "key"')
        return table

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
