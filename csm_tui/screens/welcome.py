"""The first run: the book is empty, so say how to bring data in — or open the demo."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from csm_tui.screens.base import ReportsWorkerErrors


def welcome_text(db_path: Path) -> Text:
    """The welcome message, naming the user's book file."""
    out = Text("Welcome to csm\n\n", style="bold")
    out.append("Your book is empty: ")
    out.append(str(db_path), style="italic")
    out.append(
        "\n\nBring in your accounts from a CSV (one row per account) and, if you have "
        "them, usage, tickets, NPS and contacts:\n\n"
    )
    for line in (
        "csm import accounts.csv",
        "csm import usage.csv --kind usage",
        "csm import tickets.csv --kind tickets",
    ):
        out.append(f"    {line}\n", style="bold")
    out.append("\n`csm import --help` lists the kinds; imports score the book as they land.\n\n")
    out.append("i", style="bold reverse")
    out.append(" import a file from here   ")
    out.append("d", style="bold reverse")
    out.append(" open a demo book to look around   ")
    out.append("q", style="bold reverse")
    out.append(" quit")
    return out


class WelcomeScreen(ReportsWorkerErrors, ModalScreen[str | None]):
    """Import instructions, `i` to import a file here, or `d` for the demo book. The app
    closes it once an import has brought data in."""

    BINDINGS = [
        Binding("i", "app.import_file", "Import a file", id="welcome.import"),
        Binding("d", "demo", "Open the demo book", id="welcome.demo"),
        Binding("q", "app.quit", "Quit", id="welcome.quit"),
        Binding("escape", "close", "Close", id="welcome.close"),
    ]
    DEFAULT_CSS = """
    WelcomeScreen { align: center middle; }
    WelcomeScreen > Vertical { width: 80; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 1 2; }
    """

    def __init__(self, db_path: Path) -> None:
        super().__init__()
        self.db_path = db_path

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(welcome_text(self.db_path), id="welcome")

    def action_demo(self) -> None:
        """Open the demo book instead."""
        self.dismiss("demo")

    def action_close(self) -> None:
        """Show the (empty) portfolio."""
        self.dismiss(None)
