"""HealthGauge: the account's score as a 0–100 bar in its band colour, the change since 7 and
30 days, the four category bars with their weights, and the measures that moved it.

    gauge = HealthGauge()
    gauge.show(view.gauge)      # a csm_tui.service.account_view.Gauge; redraws
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from csm_tui.service.account_view import Gauge
from csm_tui.widgets.health_bar import band_color, bar

LABEL_WIDTH = 24


def _change(delta: float | None, days: int) -> Text:
    if delta is None:
        return Text(f"no score {days} days ago", style="dim")
    if abs(delta) < 0.5:
        return Text(f"→ unchanged in {days} d", style="dim")
    arrow, style = ("↑", "green") if delta > 0 else ("↓", "red")
    return Text(f"{arrow} {abs(delta):.0f} in {days} d", style=style)


class HealthGauge(Widget):
    """The account's health: main bar, category bars, movers."""

    DEFAULT_CSS = """
    HealthGauge { height: auto; min-height: 8; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's keyword
        super().__init__(id=id)
        self.gauge: Gauge | None = None

    def show(self, gauge: Gauge) -> None:
        """Display `gauge` (after loading an account, or the result of an edit)."""
        self.gauge = gauge
        self.refresh(layout=True)

    def get_content_height(self, container, viewport, width: int) -> int:
        gauge = self.gauge
        movers = len(str(self._movers(gauge))) // max(1, width) + 1 if gauge else 1
        return 2 + (len(gauge.parts) if gauge else 4) + movers

    def render(self) -> Text:
        gauge = self.gauge
        if gauge is None:
            return Text("Loading health…", style="dim")
        total = self.content_size.width
        self.label_width = LABEL_WIDTH if total >= 70 else max(10, total // 3)
        width = max(5, total - self.label_width - 14)
        out = self._headline(gauge, width)
        for label, value, weight in gauge.parts:
            out.append("\n")
            out.append(self._label(f"{label} ({weight:.0%})"))
            if value is None:
                out.append("no data", style="dim italic")
                continue
            out.append_text(bar(value, max(4, width * 2 // 3), _value_color(value)))
            out.append(f" {value:3.0f}")
        out.append("\n")
        out.append_text(self._movers(gauge))
        return out

    label_width = LABEL_WIDTH

    def _label(self, text: str) -> str:
        width = self.label_width
        return (text if len(text) < width else text[: width - 2] + "…").ljust(width)

    def _headline(self, gauge: Gauge, width: int) -> Text:
        out = Text()
        out.append(self._label("Health"), style="bold")
        if gauge.score is None or gauge.band == "insufficient":
            out.append("insufficient data", style="bold italic")
            out.append("  (too few measures have data)", style="dim")
            return out
        color = band_color(gauge.band)
        out.append_text(bar(gauge.score, width, color))
        out.append(f" {gauge.score:.0f} ", style=f"bold {color}")
        out.append(f"{gauge.band}\n", style=color)
        out.append(" " * self.label_width)
        out.append_text(_change(gauge.delta_7, 7))
        out.append(" · ")
        out.append_text(_change(gauge.delta_30, 30))
        return out

    def _movers(self, gauge: Gauge) -> Text:
        out = Text(self._label("Why it moved"), style="bold")
        if not gauge.movers:
            out.append("no measure moved noticeably in the last 7 days", style="dim")
            return out
        for index, (label, points) in enumerate(gauge.movers):
            if index:
                out.append(" · ")
            out.append(f"{label} ")
            out.append(f"{points:+.1f} pts", style="green" if points > 0 else "red")
        return out


def _value_color(value: float) -> str:
    return "green" if value >= 75 else "yellow" if value >= 50 else "red"
