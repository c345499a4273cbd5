"""RenewalTimeline: months across, one marker per renewal, coloured by health band.

Markers are labelled with their ARR ("●$48k"). When labels collide they go to the next lane;
the largest renewals are placed first, so if space runs out it is the small ones left out
(and the widget says how many).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from csm_tui import clock

BAND_STYLES = {"green": "green", "yellow": "yellow", "red": "red"}
NO_BAND_STYLE = "grey50"
MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


@dataclass(frozen=True)
class TimelineMarker:
    """One renewal on the timeline."""

    due: date
    label: str  # e.g. "$48k"
    band: str | None
    weight: float = 0.0  # larger markers are placed first (ARR)
    flagged: bool = False  # the CSM's call and the model disagree


@dataclass(frozen=True)
class PlacedMarker:
    """A marker at a column of a lane."""

    x: int
    marker: TimelineMarker

    @property
    def text(self) -> str:
        """What is drawn: a dot, the label, and ⚠ when flagged."""
        return "●" + self.marker.label + ("⚠" if self.marker.flagged else "")


def column(day: date, start: date, end: date, width: int) -> int:
    """The column of `day` on an axis `width` wide from `start` to `end`."""
    span = max((end - start).days, 1)
    return max(0, min(width - 1, round((day - start).days / span * (width - 1))))


def layout_markers(
    markers: Sequence[TimelineMarker], start: date, end: date, width: int, lanes: int
) -> tuple[list[list[PlacedMarker]], int]:
    """Pack markers into lanes without overlaps; return the lanes and how many did not fit."""
    placed: list[list[PlacedMarker]] = [[] for _ in range(max(lanes, 0))]
    hidden = 0
    for marker in sorted(markers, key=lambda m: (-m.weight, m.due)):
        x = column(marker.due, start, end, width)
        candidate = PlacedMarker(x, marker)
        x = min(x, max(width - len(candidate.text), 0))  # keep the label inside the axis
        candidate = PlacedMarker(x, marker)
        lane = next((row for row in placed if _fits(row, candidate)), None)
        if lane is None:
            hidden += 1
        else:
            lane.append(candidate)
    return [sorted(row, key=lambda p: p.x) for row in placed], hidden


def _fits(row: list[PlacedMarker], new: PlacedMarker) -> bool:
    end = new.x + len(new.text)
    return all(end < p.x or new.x > p.x + len(p.text) for p in row)


class RenewalTimeline(Widget):
    """Months across the window; renewals as coloured markers labelled with ARR."""

    DEFAULT_CSS = """
    RenewalTimeline { height: 10; border: round $primary; padding: 0 1; }
    """
    markers: reactive[tuple[TimelineMarker, ...]] = reactive(tuple)

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.start = clock.today()
        self.end = self.start

    def show(self, start: date, end: date, markers: Sequence[TimelineMarker]) -> None:
        """Draw this window's renewals."""
        self.start, self.end = start, end
        self.markers = tuple(markers)
        self.refresh()

    def render(self) -> Text:
        """The axis with month names, then the marker lanes."""
        width = max(self.content_size.width, 10)
        lanes = max(self.content_size.height - 2, 1)
        rows, hidden = layout_markers(self.markers, self.start, self.end, width, lanes)
        lines = [self._month_line(width), self._axis_line(width)]
        lines += [self._lane_line(row, width) for row in rows]
        if hidden:
            lines[-1] = Text(f"… and {hidden} smaller renewals not drawn (see the list)", "dim")
        if not self.markers:
            lines[-1] = Text("No renewals in this window.", "dim")
        return Text("\n").join(lines)

    def _month_starts(self) -> list[date]:
        firsts, day = [], date(self.start.year, self.start.month, 1)
        while day <= self.end:
            if day >= self.start:
                firsts.append(day)
            day = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        return firsts

    def _month_line(self, width: int) -> Text:
        chars = [" "] * width
        for first in self._month_starts():
            name = MONTHS[first.month - 1] + (
                f" {first.year % 100:02d}" if first.month == 1 else ""
            )
            x = column(first, self.start, self.end, width)
            if all(c == " " for c in chars[max(x - 1, 0) : x + len(name) + 1]):
                chars[x : x + len(name)] = name[: width - x]
        return Text("".join(chars)[:width], "bold")

    def _axis_line(self, width: int) -> Text:
        chars = ["─"] * width
        chars[0] = "┣"
        for first in self._month_starts():
            chars[column(first, self.start, self.end, width)] = "┼"
        return Text("".join(chars), "dim")

    @staticmethod
    def _lane_line(row: list[PlacedMarker], width: int) -> Text:
        line, cursor = Text(), 0
        for placed in row:
            line.append(" " * (placed.x - cursor))
            style = BAND_STYLES.get(placed.marker.band or "", NO_BAND_STYLE)
            line.append(placed.text, style=style + (" bold" if placed.marker.flagged else ""))
            cursor = placed.x + len(placed.text)
        line.truncate(width)
        return line
