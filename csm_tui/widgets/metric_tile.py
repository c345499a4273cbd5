"""MetricTile: one portfolio figure with its target, status colour and how it was made.

    ┌ GRR ─────────────┐
    │ 71.1% · missed   │   value and status, coloured (met / near / missed / no data)
    │ $160k / $225k    │   numerator / denominator, small
    │ target ≥ 90      │
    └──────────────────┘

Focusable: Enter posts `MetricTile.Selected(key)` so the screen can list the accounts behind it.
"""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget

STATUS_STYLES = {
    "met": "bold green",
    "near": "bold yellow",
    "missed": "bold red",
    "no data": "dim",
    "no target": "bold",
}
STATUS_CLASSES = {
    "met": "-met", "near": "-near", "missed": "-missed", "no data": "-nodata",
    "no target": "-info",
}  # fmt: skip


class MetricTile(Widget, can_focus=True):
    """A bordered tile for one metric; update it with `show(...)`."""

    DEFAULT_CSS = """
    MetricTile {
        height: 5;
        width: 1fr;
        border: round $panel-lighten-2;
        border-title-color: $text;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    MetricTile.-met { border: round $success; }
    MetricTile.-near { border: round $warning; }
    MetricTile.-missed { border: round $error; }
    MetricTile:focus { border: double $accent; }
    """
    BINDINGS = [Binding("enter", "select", "Accounts behind it", id="tile.select")]

    class Selected(Message):
        """The user asked for the accounts behind a tile."""

        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, key: str, label: str, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.key = key
        self.border_title = label
        self.value_text = "…"
        self.ratio_text = ""
        self.target_text = ""
        self.status = "no data"

    def show(self, value: str, ratio: str, target: str, status: str, tooltip: str = "") -> None:
        """Display a new figure (value, "num / den", target text, status) and redraw."""
        self.value_text, self.ratio_text = value, ratio
        self.target_text, self.status = target, status
        for cls in STATUS_CLASSES.values():
            self.remove_class(cls)
        self.add_class(STATUS_CLASSES.get(status, "-info"))
        if tooltip:
            self.tooltip = tooltip
        self.refresh()

    def render(self) -> Text:
        """Value and status on the first line, the ratio dimmed, then the target."""
        style = STATUS_STYLES.get(self.status, "bold")
        out = Text(self.value_text, style, no_wrap=True, overflow="ellipsis")
        if self.status not in ("no target", "no data"):
            out.append(f" · {self.status}", style.replace("bold ", ""))
        out.append("\n")
        out.append(self.ratio_text, "dim")
        out.append("\n")
        out.append(self.target_text, "italic")
        return out

    def on_click(self) -> None:
        """A click selects the tile, like Enter."""
        self.focus()
        self.action_select()

    def action_select(self) -> None:
        """Enter: ask the screen for the accounts behind this tile."""
        self.post_message(self.Selected(self.key))
