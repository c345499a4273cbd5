"""TrendPlot and MetricTile render what they are given (no app needed for the drawing)."""

from __future__ import annotations

from csm_tui.widgets.metric_tile import MetricTile
from csm_tui.widgets.trend_plot import TrendPlot, render_plot

LABELS = ["Sep", "Oct", "Nov"]


def _lines(plot: TrendPlot, width: int = 30, height: int = 7) -> list[str]:
    return render_plot(plot, width, height).plain.split("\n")


def test_line_plot_puts_markers_at_their_values() -> None:
    plot = TrendPlot({"Health": [0, 50, 100]}, LABELS, y_range=(0, 100))
    lines = _lines(plot)
    assert len(lines) == 7 and all(len(line) == 30 for line in lines)
    assert lines[0].startswith("■ Health 100")  # legend shows the latest value
    rows_with_marker = [i for i, line in enumerate(lines) if "●" in line]
    assert rows_with_marker == [1, 3, 5]  # 100 at the top, 50 in the middle, 0 at the bottom
    assert lines[1].lstrip().startswith("100") and lines[5].lstrip().startswith("0")
    assert "Sep" in lines[6] and "Nov" in lines[6]


def test_missing_months_leave_a_gap_and_no_values_say_no_data() -> None:
    gap = _lines(TrendPlot({"NPS": [10, None, 30]}, LABELS))
    assert sum(line.count("●") for line in gap) == 2
    assert sum(line.count("·") for line in gap) == 0  # no line drawn across the gap
    empty = _lines(TrendPlot({"NPS": [None, None, None]}, LABELS))
    assert any("no data" in line for line in empty)


def test_stacked_bars_split_each_month_by_share() -> None:
    plot = TrendPlot({"green": [50, 100, 0], "red": [50, 0, 100]}, LABELS, kind="stacked")
    lines = _lines(plot, width=30, height=12)  # 10 plot rows
    column = [line[plot_column(lines)] for line in lines[1:11]]
    assert column.count("█") == 5 and column.count("▓") == 5  # September: half and half


def plot_column(lines: list[str]) -> int:
    """The first column of the first month's bar on the bottom plot row."""
    bottom = lines[10]
    return min(bottom.index(c) for c in "█▓" if c in bottom)


def test_update_series_replaces_the_data() -> None:
    plot = TrendPlot({"A": [1, 2, 3]}, LABELS)
    plot.update_series({"B": [7, 8, 9]})
    assert plot.series == {"B": [7, 8, 9]} and plot.labels == LABELS
    assert _lines(plot)[0].startswith("■ B 9")


def test_metric_tile_shows_value_ratio_target_and_status() -> None:
    tile = MetricTile("grr", "GRR")
    tile.show("71.1%", "$160k / $225k", "target ≥ 90", "missed")
    text = tile.render().plain
    assert text.split("\n") == ["71.1% · missed", "$160k / $225k", "target ≥ 90"]
    assert tile.has_class("-missed")
    tile.show("no data", "0 / 0", "target ≥ 90", "no data")
    assert tile.render().plain.split("\n")[0] == "no data" and not tile.has_class("-missed")
