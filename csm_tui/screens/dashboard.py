"""The dashboard (`5`): portfolio metrics as tiles for a period, and 12-month trends.

`[`/`]` step to the previous/next period, `m`/`Q`/`y` switch to month/quarter/year (`q`
stays quit). Enter (or a click) on a tile lists the accounts behind it; `e`/`a`/`o`/`r`/`n`
open the quick-action lists; `w` writes the portfolio report for the period. Metrics and
trends load in two workers; a result for a period the user has already left is dropped.
"""

from __future__ import annotations

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from csm_tui.scoring.periods import Period
from csm_tui.screens.account_list import AccountListScreen
from csm_tui.screens.base import ReportsWorkerErrors
from csm_tui.service.dashboard import (
    TILE_KEYS,
    DashboardData,
    TrendData,
    default_period,
    load_dashboard,
    load_trends,
    write_portfolio_report,
)
from csm_tui.widgets.book_header import BookHeader
from csm_tui.widgets.metric_tile import MetricTile
from csm_tui.widgets.trend_plot import TrendPlot

TILE_LABELS = {
    "grr": "GRR", "nrr": "NRR", "logo_churn": "Logo churn", "retention": "Retention",
    "renewal_success": "Renewal success", "expansion_rate": "Expansion rate", "nps": "NPS",
    "csat": "CSAT", "health_distribution": "Healthy (green)",
    "health_at_renewal": "Health at renewal", "time_to_value": "Time to value",
    "save_rate": "Save rate",
}  # fmt: skip
BAND_COLORS = {"green": "green", "yellow": "yellow", "red": "red"}
#: A tile's height in rows (border, value, ratio, target, border).
TILE_HEIGHT = 5


class DashboardScreen(ReportsWorkerErrors, Screen):
    """Tiles of the portfolio metrics with targets and status, and their monthly trends."""

    BINDINGS = [
        Binding("left_square_bracket", "shift(-1)", "Prev period", id="dashboard.previous"),
        Binding("right_square_bracket", "shift(1)", "Next period", id="dashboard.next"),
        Binding("m", "kind('month')", "Month", id="dashboard.month"),
        Binding("Q", "kind('quarter')", "Quarter", id="dashboard.quarter"),
        Binding("y", "kind('year')", "Year", id="dashboard.year"),
        Binding("e", "list('expansion')", "Expansion", id="dashboard.expansion"),
        Binding("a", "list('advocacy')", "Advocacy", id="dashboard.advocacy"),
        Binding("o", "list('onboarding')", "Onboarding", id="dashboard.onboarding"),
        Binding("r", "list('renewals90')", "Renewals 90 d", id="dashboard.renewals"),
        Binding("n", "list('nps_segment')", "NPS by segment", id="dashboard.nps_segment"),
        Binding("w", "write_report", "Write report", id="dashboard.report"),
        Binding("right,l", "move(1)", "Next tile", show=False, id="dashboard.tile_next"),
        Binding("left,h", "move(-1)", "Previous tile", show=False, id="dashboard.tile_previous"),
        Binding("down,j", "move_row(1)", "Tile below", show=False, id="dashboard.tile_down"),
        Binding("up,k", "move_row(-1)", "Tile above", show=False, id="dashboard.tile_up"),
    ]  # fmt: skip
    DEFAULT_CSS = """
    DashboardScreen #period { height: 1; padding: 0 1; }
    DashboardScreen #tiles { grid-size: 6 2; grid-gutter: 0 1; height: 10; padding: 0 1; }
    DashboardScreen #trends { height: 1fr; min-height: 8; padding: 0 1; }
    DashboardScreen .trend { width: 1fr; height: 1fr; border: round $panel-lighten-2;
                             padding: 0 1; }
    DashboardScreen TrendPlot { height: 1fr; }
    """

    class MetricsLoaded(Message):
        """The tiles of one period (`generation` tells stale results apart)."""

        def __init__(self, generation: int, data: DashboardData) -> None:
            super().__init__()
            self.generation, self.data = generation, data

    class TrendsLoaded(Message):
        """The 12-month series."""

        def __init__(self, data: TrendData) -> None:
            super().__init__()
            self.data = data

    def __init__(self, period: Period | None = None) -> None:
        super().__init__()
        self.period = period or default_period()
        self.generation = 0
        self.data: DashboardData | None = None
        self.trends: TrendData | None = None
        self.columns = 6  # tiles per row (fewer on a narrow terminal)

    def compose(self) -> ComposeResult:
        """Header, period line, the tile grid, three trend plots, footer."""
        yield BookHeader("Dashboard")
        yield Static("", id="period")
        with Grid(id="tiles"):
            for key in TILE_KEYS:
                yield MetricTile(key, TILE_LABELS[key], id=f"tile-{key}")
        with Horizontal(id="trends"):
            for plot_id, title, plot in self._plots():
                with Vertical(classes="trend", id=f"box-{plot_id}") as box:
                    box.border_title = title
                    yield plot
        yield Footer()

    @staticmethod
    def _plots() -> list[tuple[str, str, TrendPlot]]:
        return [
            ("health", "Health mix, % of scored accounts",
             TrendPlot(kind="stacked", colors=BAND_COLORS, unit="%", id="trend-health")),
            ("nps", "NPS by month", TrendPlot(unit="", id="trend-nps")),
            ("retention", "GRR / NRR by month (%)",
             TrendPlot(colors={"GRR": "cyan", "NRR": "magenta"}, unit="%", id="trend-grr")),
        ]  # fmt: skip

    def on_mount(self) -> None:
        """Focus the first tile and start loading."""
        self.query_one(MetricTile).focus()
        self.refresh_data()

    def on_resize(self, event: events.Resize) -> None:
        """Fewer tiles per row on a narrow terminal, so figures are not cut off."""
        columns = self.columns = (
            6 if event.size.width >= 110 else 4 if event.size.width >= 76 else 3
        )
        grid = self.query_one("#tiles", Grid)
        grid.styles.grid_size_columns = columns
        grid.styles.height = TILE_HEIGHT * -(-len(TILE_KEYS) // columns)

    # -- loading ---------------------------------------------------------------------------------
    def refresh_data(self) -> None:
        """Reload tiles and trends (also called by the app when the book changed)."""
        self._request_metrics()
        self._load_trends()

    def _request_metrics(self) -> None:
        self.generation += 1
        self._show_period(loading=True)
        self._load_metrics(self.generation, self.period)

    @work(thread=True, exclusive=True, group="dashboard.metrics", exit_on_error=False,
          name="computing the portfolio metrics")  # fmt: skip
    def _load_metrics(self, generation: int, period: Period) -> None:
        reader = self.app.session.reader  # type: ignore[attr-defined]
        self.post_message(self.MetricsLoaded(generation, load_dashboard(reader, period)))

    @work(thread=True, exclusive=True, group="dashboard.trends", exit_on_error=False,
          name="computing the 12-month trends")  # fmt: skip
    def _load_trends(self) -> None:
        reader = self.app.session.reader  # type: ignore[attr-defined]
        self.post_message(self.TrendsLoaded(load_trends(reader)))

    def on_dashboard_screen_metrics_loaded(self, event: MetricsLoaded) -> None:
        """Fill the tiles (unless the user has moved to another period since)."""
        if event.generation != self.generation:
            return  # the user moved on to another period meanwhile
        self.data = event.data
        for tile in event.data.tiles:
            widget = self.query_one(f"#tile-{tile.key}", MetricTile)
            widget.show(tile.value, tile.ratio, tile.target, tile.status, tile.definition)
        self._show_period(loading=False)

    def on_dashboard_screen_trends_loaded(self, event: TrendsLoaded) -> None:
        """Draw the three trend plots."""
        data = self.trends = event.data
        self.query_one("#trend-health", TrendPlot).update_series(data.health_mix, data.labels)
        self.query_one("#trend-nps", TrendPlot).update_series({"NPS": data.nps}, data.labels)
        self.query_one("#trend-grr", TrendPlot).update_series(
            {"GRR": data.grr, "NRR": data.nrr}, data.labels
        )

    def _show_period(self, loading: bool) -> None:
        period = self.period
        state = " · computing…" if loading else ""
        self.query_one("#period", Static).update(
            f"[b]{period.label}[/b]  {period.start.isoformat()} → {period.end.isoformat()}"
            f"{state}   [dim]\\[ ] previous/next · m Q y month/quarter/year · "
            "Enter on a tile: the accounts behind it[/dim]"
        )

    # -- actions ---------------------------------------------------------------------------------
    def action_shift(self, steps: int) -> None:
        """Step to the previous (-1) or next (+1) period of the same kind."""
        self.period = self.period.shift(steps)
        self._request_metrics()

    def action_kind(self, kind: str) -> None:
        """Switch to the month, quarter or year containing the current period's end."""
        self.period = self.period.as_kind(kind)
        self._request_metrics()

    def action_move(self, step: int) -> None:
        """Focus the tile `step` places along (wrapping around)."""
        tiles = list(self.query(MetricTile))
        current = tiles.index(self.focused) if self.focused in tiles else 0
        tiles[(current + step) % len(tiles)].focus()

    def action_move_row(self, rows: int) -> None:
        """Focus the tile `rows` rows down (negative: up), staying in the grid."""
        tiles = list(self.query(MetricTile))
        current = tiles.index(self.focused) if self.focused in tiles else 0
        target = current + rows * self.columns
        if 0 <= target < len(tiles):
            tiles[target].focus()

    def action_list(self, key: str) -> None:
        """Open a quick-action list (expansion, advocacy, onboarding, renewals90, nps_segment)."""
        self.app.push_screen(AccountListScreen.for_list(key, self.period))

    @on(MetricTile.Selected)
    def _tile_selected(self, event: MetricTile.Selected) -> None:
        title = f"{TILE_LABELS[event.key]}, {self.period.label}"
        self.app.push_screen(AccountListScreen(f"metric:{event.key}", self.period, title))

    def action_write_report(self) -> None:
        """Write the portfolio summary of the period to a Markdown file."""
        self._write_report(self.period)

    @work(thread=True, exclusive=True, group="dashboard.report", exit_on_error=False,
          name="writing the portfolio report")  # fmt: skip
    def _write_report(self, period: Period) -> None:
        path = write_portfolio_report(self.app.session.reader, period)  # type: ignore[attr-defined]
        self.app.call_from_thread(
            self.app.notify, f"Portfolio summary for {period.label} written to {path}",
            title="Report",
        )  # fmt: skip
