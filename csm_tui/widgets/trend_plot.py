"""TrendPlot: a small terminal plot of monthly series (lines, bars or stacked bars).

    plot = TrendPlot({"Health": [71, 68, None, 58]}, ["Aug", "Sep", "Oct", "Nov"], y_range=(0, 100))
    plot.update_series({"NPS": [...]}, labels)        # redraws; call from the UI thread

Missing values (None) leave a gap. Kinds: "line" (markers joined by dots, several series),
"bar" (the first series as bars with eighth-block tops) and "stacked" (each month's values
stacked as shares of 100 %, e.g. the green/yellow/red mix of a book).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.widget import Widget

Number = float | int | None

#: Series colours in order, unless the caller names one per series.
PALETTE = ("cyan", "magenta", "yellow", "green", "blue", "red")
_EIGHTHS = " ▁▂▃▄▅▆▇█"
#: Stacked parts differ in texture as well as colour (readable without colour, NO_COLOR).
_FILLS = ("█", "▓", "▒", "░")


@dataclass
class _Canvas:
    """A grid of characters with one style each, turned into a rich Text at the end."""

    width: int
    height: int

    def __post_init__(self) -> None:
        self.cells = [[(" ", "")] * self.width for _ in range(self.height)]

    def put(self, row: int, col: int, char: str, style: str) -> None:
        """One cell (ignored outside the canvas)."""
        if 0 <= row < self.height and 0 <= col < self.width:
            self.cells[row][col] = (char, style)

    def write(self, row: int, col: int, text: str, style: str = "") -> None:
        """A run of cells from (row, col) rightwards."""
        for offset, char in enumerate(text):
            self.put(row, col + offset, char, style)

    def to_text(self) -> Text:
        """The grid as rich Text, one line per row."""
        out = Text(no_wrap=True, overflow="crop")
        for index, row in enumerate(self.cells):
            if index:
                out.append("\n")
            for char, style in row:
                out.append(char, style or None)
        return out


class TrendPlot(Widget):
    """A compact plot of one or more monthly series with month labels underneath."""

    DEFAULT_CSS = """
    TrendPlot {
        height: 8;
        min-height: 4;
        width: 1fr;
    }
    """

    def __init__(
        self,
        series: dict[str, Sequence[Number]] | None = None,
        labels: Sequence[str] | None = None,
        *,
        kind: str = "line",
        y_range: tuple[float, float] | None = None,
        colors: dict[str, str] | None = None,
        unit: str = "",
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's own keyword
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        if kind not in ("line", "bar", "stacked"):
            raise ValueError(f"TrendPlot kind must be line, bar or stacked, not {kind!r}")
        self.kind = kind
        self.y_range = y_range
        self.series_colors = dict(colors or {})
        self.unit = unit
        self.series: dict[str, list[Number]] = {}
        self.labels: list[str] = []
        self._set(series or {}, labels or [])

    def update_series(
        self, series: dict[str, Sequence[Number]], labels: Sequence[str] | None = None
    ) -> None:
        """Replace the plotted series (and optionally the month labels) and redraw."""
        self._set(series, labels if labels is not None else self.labels)
        self.refresh()

    def _set(self, series: dict[str, Sequence[Number]], labels: Sequence[str]) -> None:
        self.series = {name: list(values) for name, values in series.items()}
        self.labels = list(labels)

    def color_of(self, name: str) -> str:
        """The colour a series is drawn in (the caller's choice, else the palette's)."""
        if name in self.series_colors:
            return self.series_colors[name]
        return PALETTE[list(self.series).index(name) % len(PALETTE)]

    def render(self) -> Text:
        """Draw legend, plot area and month labels into the widget's content size."""
        width, height = self.content_size.width, self.content_size.height
        return render_plot(self, max(width, 10), max(height, 3))


def render_plot(plot: TrendPlot, width: int, height: int) -> Text:
    """The plot as rich Text of exactly `height` lines of `width` cells."""
    canvas = _Canvas(width, height)
    _draw_legend(plot, canvas)
    points = len(plot.labels) or max((len(v) for v in plot.series.values()), default=0)
    values = [v for vals in plot.series.values() for v in vals if v is not None]
    if not points or not values:
        canvas.write(height // 2, max(0, (width - 7) // 2), "no data", "dim")
        return canvas.to_text()
    low, high = _y_bounds(plot, values)
    gutter = max(len(_fmt(high)), len(_fmt(low))) + 1
    area = _Area(top=1, rows=max(1, height - 2), left=gutter, cols=max(1, width - gutter))
    area.step = max(1, area.cols // points)
    canvas.write(area.top, 0, _fmt(high).rjust(gutter - 1), "dim")
    canvas.write(area.top + area.rows - 1, 0, _fmt(low).rjust(gutter - 1), "dim")
    if plot.kind == "stacked":
        _draw_stacked(plot, canvas, area, points)
    elif plot.kind == "bar":
        _draw_bars(plot, canvas, area, low, high)
    else:
        _draw_lines(plot, canvas, area, low, high)
    _draw_labels(plot, canvas, area, points, height - 1)
    return canvas.to_text()


@dataclass
class _Area:
    """The plotting rectangle inside the canvas; `step` is the width of one month's column."""

    top: int
    rows: int
    left: int
    cols: int
    step: int = 1

    def x(self, index: int) -> int:
        """The column of month `index`'s marker."""
        return self.left + index * self.step + self.step // 2

    def y(self, value: float, low: float, high: float) -> int:
        """The row of `value` on a low..high scale (clamped)."""
        share = 0.0 if high == low else (value - low) / (high - low)
        share = min(1.0, max(0.0, share))
        return self.top + self.rows - 1 - round(share * (self.rows - 1))


def _y_bounds(plot: TrendPlot, values: list[float]) -> tuple[float, float]:
    if plot.kind == "stacked":
        return 0.0, 100.0
    if plot.y_range is not None:
        return plot.y_range
    low, high = min(values), max(values)
    if plot.kind == "bar":
        low = min(0.0, low)
    return (low - 1, high + 1) if low == high else (low, high)


def _draw_legend(plot: TrendPlot, canvas: _Canvas) -> None:
    col = 0
    for index, (name, values) in enumerate(plot.series.items()):
        last = next((v for v in reversed(values) if v is not None), None)
        shown = f"{name} {_fmt(last, plot.unit)}{plot.unit}" if last is not None else f"{name} –"
        marker = _FILLS[index % len(_FILLS)] if plot.kind == "stacked" else "■"
        canvas.write(0, col, marker + " ", plot.color_of(name))
        canvas.write(0, col + 2, shown)
        col += len(shown) + 4


def _draw_lines(plot: TrendPlot, canvas: _Canvas, area: _Area, low: float, high: float) -> None:
    for name, values in plot.series.items():
        style = plot.color_of(name)
        previous: tuple[int, int] | None = None
        for index, value in enumerate(values):
            if value is None:
                previous = None
                continue
            point = (area.x(index), area.y(value, low, high))
            if previous is not None:
                _join(canvas, previous, point, style)
            previous = point
        for index, value in enumerate(values):
            if value is not None:
                canvas.put(area.y(value, low, high), area.x(index), "●", style)


def _join(canvas: _Canvas, start: tuple[int, int], end: tuple[int, int], style: str) -> None:
    """Dots between two markers, interpolated row by column."""
    (x0, y0), (x1, y1) = start, end
    for x in range(x0 + 1, x1):
        y = round(y0 + (y1 - y0) * (x - x0) / (x1 - x0))
        canvas.put(y, x, "·", style)


def _draw_bars(plot: TrendPlot, canvas: _Canvas, area: _Area, low: float, high: float) -> None:
    name, values = next(iter(plot.series.items()))
    style = plot.color_of(name)
    bar_width = max(1, area.step - 1)
    for index, value in enumerate(values):
        if value is None:
            continue
        share = 0.0 if high == low else min(1.0, max(0.0, (value - low) / (high - low)))
        eighths = round(share * area.rows * 8)
        left = area.left + index * area.step
        for level in range(area.rows):
            fill = min(8, max(0, eighths - level * 8))
            if fill:
                row = area.top + area.rows - 1 - level
                canvas.write(row, left, _EIGHTHS[fill] * bar_width, style)


def _draw_stacked(plot: TrendPlot, canvas: _Canvas, area: _Area, points: int) -> None:
    bar_width = max(1, area.step - 1)
    for index in range(points):
        parts = [(n, v[index] or 0) for n, v in plot.series.items() if index < len(v)]
        total = sum(value for _, value in parts)
        if total <= 0:
            continue
        left, cumulative, lower = area.left + index * area.step, 0.0, 0
        for position, (name, value) in enumerate(parts):
            cumulative += value
            upper = round(cumulative / total * area.rows)
            fill = _FILLS[position % len(_FILLS)] * bar_width
            for level in range(lower, upper):
                canvas.write(area.top + area.rows - 1 - level, left, fill, plot.color_of(name))
            lower = upper


def _draw_labels(plot: TrendPlot, canvas: _Canvas, area: _Area, points: int, row: int) -> None:
    labels = plot.labels or [str(i + 1) for i in range(points)]
    widest = max(len(label) for label in labels)
    every = max(1, -(-(widest + 1) // area.step))  # skip labels that would collide
    for index, label in enumerate(labels[:points]):
        if index % every == 0:
            text = label[: max(1, area.step * every - 1)]
            canvas.write(row, max(area.left, area.x(index) - len(text) // 2), text, "dim")


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    if unit == "%":
        return f"{value:.0f}"
    return f"{value:.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.1f}"
