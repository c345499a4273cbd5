"""What the dashboard and the list screen show, shaped for them (call from worker threads).

    data = load_dashboard(session.reader, period)         # tiles for one period
    trends = load_trends(session.reader)                  # 12 monthly series
    listing = load_list(session.reader, "expansion")      # rows for AccountListScreen

Heavy modules (pandas) load on first call, not when a screen module is imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from csm_tui import clock
from csm_tui.scoring.periods import Period, parse_period

#: Tiles in screen order (two rows of six at 120 columns).
TILE_KEYS = (
    "grr", "nrr", "logo_churn", "retention", "renewal_success", "expansion_rate",
    "nps", "csat", "health_distribution", "health_at_renewal", "time_to_value", "save_rate",
)  # fmt: skip
#: Metrics whose numerator and denominator are dollars.
MONEY_KEYS = ("grr", "nrr")


@dataclass(frozen=True)
class TileData:
    """One metric tile: the figure, how it was made, its target and status."""

    key: str
    label: str
    value: str
    ratio: str  # "numerator / denominator" as shown small under the value
    target: str  # "target ≥ 90" or "" when the metric has none
    status: str  # met / near / missed / no data / no target
    definition: str


@dataclass(frozen=True)
class DashboardData:
    """The tiles of one period."""

    period: Period
    tiles: list[TileData]


@dataclass(frozen=True)
class TrendData:
    """Monthly series for the trend plots, oldest month first."""

    labels: list[str]
    health_mix: dict[str, list[float | None]]
    nps: list[float | None]
    grr: list[float | None]
    nrr: list[float | None]


def default_period(today: date | None = None) -> Period:
    """The period the dashboard opens on: the current quarter."""
    return parse_period(None, today)


def load_dashboard(book, period: Period, today: date | None = None) -> DashboardData:
    """Compute every tile's metric for `period`."""
    from csm_tui.scoring.metrics import compute_metrics

    result = compute_metrics(book, period, today)
    return DashboardData(period, [_tile(result[key]) for key in TILE_KEYS])


def _tile(metric) -> TileData:
    if metric.key in MONEY_KEYS:
        ratio = f"{short_money(metric.numerator)} / {short_money(metric.denominator)}"
    elif metric.key == "nps":
        d = metric.detail
        ratio = f"{d['promoters']}P {d['detractors']}D / {d['responses']}"
    else:
        ratio = f"{_count(metric.numerator)} / {_count(metric.denominator)}"
    target = f"target {metric.target.text}" if metric.target else ""
    value = metric.display.replace(" days", " d")  # tiles have a dozen columns
    return TileData(metric.key, metric.label, value, ratio, target, metric.status,
                    metric.definition)  # fmt: skip


def short_money(value) -> str:
    """Dollars in a tile's few columns: $950, $12.5k, $431k, $1.2M."""
    value = float(value or 0)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            scaled = value / limit
            return f"${scaled:.1f}{suffix}" if scaled < 100 else f"${scaled:.0f}{suffix}"
    return f"${value:,.0f}"


def _count(value) -> str:
    if value is None:
        return "0"
    return f"{value:,.0f}" if float(value) == int(value) else f"{value:,.1f}"


def load_trends(book, months: int = 12, today: date | None = None) -> TrendData:
    """Health mix, NPS, GRR and NRR for each of the last `months` months."""
    from csm_tui.scoring.metrics import monthly_trends

    trends = monthly_trends(book, months, today)
    return TrendData(trends.labels, trends.health_share, _floats(trends.nps),
                     _floats(trends.grr), _floats(trends.nrr))  # fmt: skip


def _floats(values: list) -> list[float | None]:
    return [None if v is None else float(v) for v in values]


def load_list(book, key: str, period: Period | None = None, today: date | None = None):
    """The rows of a list (see `csm_tui.scoring.lists.open_list` for the keys)."""
    from csm_tui.scoring.lists import open_list

    return open_list(book, key, period, today or clock.today())


def list_title(key: str) -> str:
    """The title of a named list, before its rows are loaded."""
    from csm_tui.scoring.list_names import LIST_TITLES

    if key.startswith("segment_nps:"):
        return f"NPS respondents, {key.split(':', 1)[1]}"
    return LIST_TITLES.get(key, "Accounts")


def write_portfolio_report(book, period: Period, directory: Path | None = None) -> Path:
    """Write the portfolio summary for `period` as Markdown (0600); return its path."""
    from csm_tui.reports.portfolio import write_portfolio

    name = f"portfolio-{period.label.replace(' ', '-').replace('..', '_to_')}.md"
    return write_portfolio(book, (directory or Path.cwd()) / name, period)
