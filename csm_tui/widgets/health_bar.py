"""The coloured health cell: a bar in the band's colour, the score, and the 7-day trend.

health_cell(58, "yellow", -11)  →  "████▋    58↓"  (yellow bar, red arrow)
"""

from __future__ import annotations

from rich.text import Text

#: Health band → colour (the same everywhere: table cells, gauge, timeline markers).
BAND_COLORS = {"green": "green", "yellow": "yellow", "red": "red", "insufficient": "grey50"}
_EIGHTHS = " ▏▎▍▌▋▊▉█"
#: A 7-day change smaller than this is shown as flat.
TREND_THRESHOLD = 1.0


def band_color(band: str | None) -> str:
    """The colour of a health band (grey for unscored or insufficient data)."""
    return BAND_COLORS.get(band or "", "grey50")


def bar(value: float, width: int, style: str) -> Text:
    """A horizontal bar of `width` cells filled to `value` (0–100), with eighth-cell precision."""
    eighths = round(max(0.0, min(100.0, value)) / 100 * width * 8)
    full, part = divmod(eighths, 8)
    body = "█" * full + (_EIGHTHS[part] if part else "")
    return Text(body.ljust(width), style=style, no_wrap=True, end="")


def trend_arrow(delta: float | None) -> Text:
    """↑ (green) / ↓ (red) / → for the change since 7 days ago; blank when unknown."""
    if delta is None:
        return Text(" ")
    if delta >= TREND_THRESHOLD:
        return Text("↑", style="green")
    if delta <= -TREND_THRESHOLD:
        return Text("↓", style="red")
    return Text("→", style="dim")


def health_cell(
    score: float | None, band: str | None, delta_7: float | None, width: int = 8
) -> Text:
    """The table's health cell: bar, number, trend arrow (or "insufficient" / "unscored")."""
    if score is None or band == "insufficient":
        label = "insufficient" if band == "insufficient" else "unscored"
        return Text(label.ljust(width + 4)[: width + 4], style="dim italic", no_wrap=True)
    out = bar(score, width, band_color(band))
    out.append(f" {score:3.0f}", style=f"bold {band_color(band)}")
    out.append_text(trend_arrow(delta_7))
    return out
