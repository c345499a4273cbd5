"""Portfolio metrics over a period, computed from the stored renewals, responses, plans and scores.

Definitions (each metric also carries its numerator and denominator):

- ARR metrics use the renewals *due* in the period whose outcome is recorded ("ARR up for
  renewal"): start ARR = Σ arr_before; churned ARR = arr_before of churned renewals;
  contraction/expansion = the fall/rise from arr_before to arr_after of the others.
  GRR = (start − churned − contraction) / start; NRR = (start − churned − contraction +
  expansion) / start.
- An account is *active* on a day when it had started by then (its start date, or a renewal
  due, proves a contract) and has not churned, or came back after its last churn (a later
  start date or a later renewal that did not churn). A churn happens on the due date of a churned renewal; an account marked
  churned with no such renewal churned on its renewal date.
- Logo churn = accounts active at the start that churned in the period / accounts active at
  the start. Retention (seed 001) = accounts active at the start still active at the end /
  accounts active at the start. Expansion rate = accounts active at the start with an
  expanding renewal in the period / accounts active at the start.
- NPS = % promoters (9–10) − % detractors (0–6) over the latest response per contact in the
  period (responses without a contact: the latest per account). CSAT = mean of 1–5 scores.
- Renewal success = renewals due in the period renewed on time / renewals due in the period
  that are decided or past due. On time: outcome renewed, expanded or downgraded with a close
  date on or before the due date.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta

import pandas as pd

from csm_tui import clock
from csm_tui.scoring.periods import Period, last_months
from csm_tui.storage import history

BANDS = ("green", "yellow", "red", "insufficient")
RENEWING = ("renewed", "expanded", "downgraded")
#: How far back a health snapshot still counts as an account's band on a past day.
SNAPSHOT_LOOKBACK_DAYS = 92


@dataclass(frozen=True)
class Target:
    """A goal for a metric: `op` is ">=", "<=" or "<"; within `near` of it a miss is "near"."""

    op: str
    value: float
    near: float

    def status(self, value: float | None) -> str:
        """met / near / missed / no data."""
        if value is None:
            return "no data"
        gap = {">=": self.value - value, "<=": value - self.value, "<": value - self.value}
        shortfall = gap[self.op]
        if shortfall < 0 or (shortfall == 0 and self.op != "<"):
            return "met"
        return "near" if shortfall <= self.near else "missed"

    @property
    def text(self) -> str:
        """The target as shown: "≥ 90", "< 5"."""
        symbol = {">=": "≥", "<=": "≤", "<": "<"}[self.op]
        return f"{symbol} {self.value:g}"


#: Seed targets: retention, NPS, logo churn, GRR, NRR, renewal success (seeds 001/003/004),
#: time to value (SPEC).
TARGETS: dict[str, Target] = {
    "retention": Target(">=", 90, 5),
    "nps": Target(">=", 50, 10),
    "logo_churn": Target("<", 5, 2),
    "grr": Target(">=", 90, 5),
    "nrr": Target(">=", 110, 10),
    "renewal_success": Target(">=", 85, 5),
    "time_to_value": Target("<=", 30, 10),
}


@dataclass
class Metric:
    """One figure with how it was made: value = numerator / denominator (× 100 for %)."""

    key: str
    label: str
    value: float | None
    numerator: float | None
    denominator: float | None
    unit: str  # "%", "days", "/5", "pts", "score"
    target: Target | None
    status: str  # met / near / missed / no data / no target
    definition: str = ""
    detail: dict[str, float] = field(default_factory=dict)

    @property
    def display(self) -> str:
        """The value as shown on a tile or in a report ("91.5%", "NPS 42", "no data")."""
        if self.value is None:
            return "no data"
        if self.unit == "%":
            return f"{self.value:.1f}%"
        if self.unit == "pts":
            return f"{self.value:+.0f}" if self.value else "0"
        if self.unit == "score":
            return f"{self.value:.1f}"
        if self.unit == "days":
            return f"{self.value:.1f} days"
        return f"{self.value:.2f}{self.unit}"

    def to_dict(self) -> dict:
        """A JSON-ready dict: value, numerator, denominator, unit, target, status, detail."""
        out = asdict(self)
        out["target"] = self.target.text if self.target else None
        return out


@dataclass
class MetricData:
    """The rows the metrics read, loaded once in one read transaction (pandas frames)."""

    accounts: pd.DataFrame
    renewals: pd.DataFrame
    responses: pd.DataFrame
    save_plans: pd.DataFrame
    today: date
    cache: dict = field(default_factory=dict)  # derived frames, computed once per load


@dataclass
class PortfolioMetrics:
    """All metrics of one period, keyed by metric key, plus the health distribution."""

    period: Period
    metrics: dict[str, Metric]

    def __getitem__(self, key: str) -> Metric:
        return self.metrics[key]


def load_metric_data(book, since: date, until: date, today: date | None = None) -> MetricData:
    """Load accounts, renewals, and the responses and save plans dated in [since, until]."""
    low, high = since.isoformat(), (until + timedelta(days=1)).isoformat()
    with book.read() as conn:
        frames = {
            "accounts": _frame(
                conn,
                "SELECT id, name, segment, tier, owner, arr, status, start_date, activated_on, "
                "renewal_date, health_score, health_band, substr(updated_at, 1, 10) AS updated_on "
                "FROM scored_accounts",
            ),
            "renewals": _frame(
                conn,
                "SELECT id, account_id, due_date, arr_before, arr_after, outcome, closed_on "
                "FROM renewals",
            ),
            "responses": _frame(
                conn,
                "SELECT id, account_id, contact_id, substr(date, 1, 10) AS date, kind, score "
                "FROM responses WHERE date >= ? AND date < ?",
                (low, high),
            ),
            "save_plans": _frame(
                conn,
                "SELECT id, account_id, status, substr(closed_at, 1, 10) AS closed_on "
                "FROM save_plans WHERE status IN ('saved', 'lost') AND closed_at >= ? "
                "AND closed_at < ?",
                (low, high),
            ),
        }
    return MetricData(**frames, today=today or clock.today())


def _frame(conn, sql: str, params: tuple = ()) -> pd.DataFrame:
    cursor = conn.cursor()
    cursor.row_factory = None  # plain tuples: sqlite3.Row objects cost a third of the load
    cursor.execute(sql, params)
    columns = [d[0] for d in cursor.description]
    return pd.DataFrame.from_records(cursor.fetchall(), columns=columns)


def compute_metrics(book, period: Period, today: date | None = None) -> PortfolioMetrics:
    """Every portfolio metric for `period` (health distribution and health at renewal included)."""
    data = load_metric_data(book, period.start, period.end, today)
    metrics = metrics_from_data(data, period)
    metrics["health_distribution"] = health_distribution(book, data, period)
    metrics["health_at_renewal"] = health_at_renewal(book, data, period)
    return PortfolioMetrics(period, metrics)


def metrics_from_data(data: MetricData, period: Period) -> dict[str, Metric]:
    """The metrics computed from frames alone (no further queries), keyed by metric key."""
    makers: list[Callable[[MetricData, Period], Metric]] = [
        grr, nrr, logo_churn, retention, nps, csat, csat_satisfied, renewal_success,
        time_to_value, activated_within_30, expansion_rate, save_rate,
    ]  # fmt: skip
    return {metric.key: metric for metric in (make(data, period) for make in makers)}


# -- building blocks (also used by lists.py to show the accounts behind a tile) --------------


def renewals_decided(data: MetricData, period: Period) -> pd.DataFrame:
    """Renewals due in the period with a recorded outcome, with churned/contraction/expansion."""
    frame = in_period(data.renewals, "due_date", period)
    frame = frame[frame["outcome"].notna()].copy()
    before = frame["arr_before"].astype(float)
    after = frame["arr_after"].astype(float).fillna(before)
    churned = frame["outcome"].eq("churned")
    delta = (after - before).where(~churned, 0.0)
    frame["churned_arr"] = before.where(churned, 0.0)
    frame["contraction"] = (-delta).clip(lower=0)
    frame["expansion"] = delta.clip(lower=0)
    return frame


def active_on(data: MetricData, day: date) -> pd.Series:
    """A boolean Series indexed by account id: was the account active on `day`?"""
    key = ("active_on", day)
    if key not in data.cache:
        data.cache[key] = _active_on(_lifecycle(data), _day_number(day))
    return data.cache[key]


@dataclass
class _Lifecycle:
    """Start, first renewal, churns and returns per account, as YYYYMMDD numbers (numeric
    group-bys run in C; on ISO text pandas falls back to Python, 100× slower)."""

    index: pd.Index
    start: pd.Series
    first_due: pd.Series
    churns: pd.DataFrame  # account_id, day
    returns: pd.DataFrame  # account_id, day


def _lifecycle(data: MetricData) -> _Lifecycle:
    if "lifecycle" not in data.cache:
        accounts = data.accounts.set_index("id")
        renewals = data.renewals.assign(day=_day_numbers(data.renewals["due_date"]))
        churns, returns = _churn_events(data), _return_events(data)
        data.cache["lifecycle"] = _Lifecycle(
            index=accounts.index,
            start=_day_numbers(accounts["start_date"]),
            first_due=renewals.groupby("account_id")["day"].min().reindex(accounts.index),
            churns=churns.assign(day=_day_numbers(churns["date"]))[["account_id", "day"]],
            returns=returns.assign(day=_day_numbers(returns["date"]))[["account_id", "day"]],
        )
    return data.cache["lifecycle"]


def _active_on(life: _Lifecycle, day: int) -> pd.Series:
    # A renewal due by then proves a contract existed even if the start date was reset later.
    started = life.start.isna() | (life.start <= day) | (life.first_due <= day)
    churns, returns = life.churns, life.returns
    last_churn = churns[churns["day"] <= day].groupby("account_id")["day"].max()
    last_return = returns[returns["day"] <= day].groupby("account_id")["day"].max()
    last_churn = last_churn.reindex(life.index)
    last_return = last_return.reindex(life.index)
    came_back = last_return.notna() & last_churn.notna() & (last_return > last_churn)
    return started & (last_churn.isna() | came_back)


_EPOCH = date(1970, 1, 1)


def _day_number(day: date) -> int:
    """Days since 1970-01-01 (the scale of `_day_numbers`)."""
    return (day - _EPOCH).days


def _day_numbers(values: pd.Series) -> pd.Series:
    """ISO dates as days since 1970-01-01 (floats); NaN where missing or not a date."""
    parsed = pd.to_datetime(values.astype("string").str.slice(0, 10), format="%Y-%m-%d",
                            errors="coerce")  # fmt: skip
    return (parsed - pd.Timestamp(_EPOCH)).dt.days.astype(float)


def churned_in(data: MetricData, period: Period) -> pd.Series:
    """Account ids (unique) with a churn dated inside the period."""
    churns = in_period(_churn_events(data), "date", period)
    return pd.Series(churns["account_id"].unique(), dtype=object)


def latest_nps(data: MetricData, period: Period) -> pd.DataFrame:
    """The latest NPS response per contact (per account when contactless) in the period."""
    frame = in_period(data.responses, "date", period)
    frame = frame[frame["kind"].eq("nps")].copy()
    frame["who"] = frame["contact_id"].where(
        frame["contact_id"].notna(), "account:" + frame["account_id"].astype(str)
    )
    frame = frame.sort_values(["date", "id"]).drop_duplicates("who", keep="last")
    frame["group"] = pd.cut(
        frame["score"].astype(float), [-1, 6, 8, 10], labels=["detractor", "passive", "promoter"]
    ).astype(str)
    return frame


def renewals_due(data: MetricData, period: Period) -> pd.DataFrame:
    """Renewals due in the period that are decided or past due, with an `on_time` column."""
    frame = in_period(data.renewals, "due_date", period)
    frame = frame[frame["outcome"].notna() | (frame["due_date"] <= data.today.isoformat())].copy()
    closed = frame["closed_on"].fillna("9999-12-31").astype(str)
    frame["on_time"] = frame["outcome"].isin(RENEWING) & (closed <= frame["due_date"])
    return frame


def expanding_accounts(data: MetricData, period: Period) -> pd.Series:
    """Ids of accounts with an expanding renewal (ARR up) due in the period."""
    decided = renewals_decided(data, period)
    return pd.Series(decided.loc[decided["expansion"] > 0, "account_id"].unique(), dtype=object)


def _churn_events(data: MetricData) -> pd.DataFrame:
    """Account id and date of every churn (churned renewals, and accounts marked churned)."""
    renewals = data.renewals
    from_renewals = renewals.loc[renewals["outcome"].eq("churned"), ["account_id", "due_date"]]
    from_renewals = from_renewals.rename(columns={"due_date": "date"})
    marked = data.accounts[
        data.accounts["status"].eq("churned")
        & ~data.accounts["id"].isin(from_renewals["account_id"])
    ]
    # Marked churned with no churned renewal: it churned at its renewal date, or when it was
    # last updated if that came first (a renewal date can lie in the future).
    renewal = marked["renewal_date"].fillna(marked["updated_on"])
    updated = marked["updated_on"].fillna(renewal)
    fallback = pd.DataFrame(
        {"account_id": marked["id"], "date": renewal.where(renewal <= updated, updated)}
    )
    return pd.concat([from_renewals, fallback], ignore_index=True).dropna(subset=["date"])


def _return_events(data: MetricData) -> pd.DataFrame:
    """Days that show an account was (again) a customer: its start, and non-churn renewals."""
    renewals = data.renewals
    kept = renewals.loc[renewals["outcome"].isin(RENEWING), ["account_id", "due_date"]]
    starts = data.accounts.loc[data.accounts["start_date"].notna(), ["id", "start_date"]]
    return pd.concat(
        [
            kept.rename(columns={"due_date": "date"}),
            starts.rename(columns={"id": "account_id", "start_date": "date"}),
        ],
        ignore_index=True,
    )


def in_period(frame: pd.DataFrame, column: str, period: Period) -> pd.DataFrame:
    """The rows of `frame` whose ISO date `column` falls inside the period."""
    values = frame[column]
    if values.dtype == object:  # all-missing or mixed: make it comparable text
        values = values.fillna("").astype(str)
    mask = (values >= period.start.isoformat()) & (values <= period.end.isoformat())
    return frame[mask.fillna(False).astype(bool)]


def at_start(data: MetricData, period: Period) -> pd.Series:
    """Boolean Series by account id: active on the day before the period starts."""
    return active_on(data, period.start - timedelta(days=1))


# -- the metrics -------------------------------------------------------------------------------


def _ratio(
    key: str, label: str, numerator: float, denominator: float, unit: str = "%", **extra
) -> Metric:
    """A percentage metric; no data (None) when the denominator is zero."""
    value = None if not denominator else round(100.0 * float(numerator) / float(denominator), 2)
    target = TARGETS.get(key)
    status = target.status(value) if target else ("no data" if value is None else "no target")
    return Metric(key, label, value, _num(numerator), _num(denominator), unit, target, status,
                  **extra)  # fmt: skip


def _num(value: float) -> float:
    """Numbers in JSON and on tiles: money rounded to cents, counts as plain integers."""
    value = round(float(value), 2)
    return int(value) if value == int(value) else value


def grr(data: MetricData, period: Period) -> Metric:
    """Gross revenue retention of the ARR up for renewal in the period."""
    decided = renewals_decided(data, period)
    start = decided["arr_before"].astype(float).sum()
    kept = start - decided["churned_arr"].sum() - decided["contraction"].sum()
    return _ratio(
        "grr", "GRR", kept, start,
        definition="(ARR up for renewal − churned − contraction) / ARR up for renewal",
        detail=_arr_detail(decided),
    )  # fmt: skip


def nrr(data: MetricData, period: Period) -> Metric:
    """Net revenue retention of the ARR up for renewal in the period."""
    decided = renewals_decided(data, period)
    start = decided["arr_before"].astype(float).sum()
    net = start - decided["churned_arr"].sum() - decided["contraction"].sum()
    net += decided["expansion"].sum()
    return _ratio(
        "nrr", "NRR", net, start,
        definition="(ARR up for renewal − churned − contraction + expansion) / ARR up for renewal",
        detail=_arr_detail(decided),
    )  # fmt: skip


def _arr_detail(decided: pd.DataFrame) -> dict[str, float]:
    return {
        "start_arr": _num(decided["arr_before"].astype(float).sum()),
        "churned_arr": _num(decided["churned_arr"].sum()),
        "contraction": _num(decided["contraction"].sum()),
        "expansion": _num(decided["expansion"].sum()),
        "renewals": int(len(decided)),
    }


def logo_churn(data: MetricData, period: Period) -> Metric:
    """Accounts churned in the period out of the accounts active at its start."""
    cohort = at_start(data, period)
    churned = cohort[cohort].index.isin(churned_in(data, period)).sum()
    return _ratio(
        "logo_churn", "Logo churn", churned, int(cohort.sum()),
        definition="accounts active at the start that churned in the period / accounts active "
        "at the start",
    )  # fmt: skip


def retention(data: MetricData, period: Period) -> Metric:
    """Seed 001: customers active at the start still active at the end / customers at start."""
    cohort = at_start(data, period)
    still = active_on(data, period.end)
    kept = int((cohort & still.reindex(cohort.index, fill_value=False)).sum())
    return _ratio(
        "retention", "Retention", kept, int(cohort.sum()),
        definition="accounts active at the start still active at the end / accounts active "
        "at the start",
    )  # fmt: skip


def nps(data: MetricData, period: Period) -> Metric:
    """Net promoter score over the latest response per contact in the period."""
    latest = latest_nps(data, period)
    counts = latest["group"].value_counts()
    promoters, detractors = int(counts.get("promoter", 0)), int(counts.get("detractor", 0))
    metric = _ratio(
        "nps", "NPS", promoters - detractors, len(latest), unit="pts",
        definition="% promoters (9–10) − % detractors (0–6), latest response per contact",
        detail={"promoters": promoters, "passives": int(counts.get("passive", 0)),
                "detractors": detractors, "responses": int(len(latest))},
    )  # fmt: skip
    return metric


def csat(data: MetricData, period: Period) -> Metric:
    """Mean CSAT (1–5) of the responses in the period."""
    scores = in_period(data.responses, "date", period)
    scores = scores.loc[scores["kind"].eq("csat"), "score"].astype(float)
    value = round(float(scores.mean()), 2) if len(scores) else None
    return Metric(
        "csat", "CSAT", value, _num(scores.sum()), len(scores), "/5", None,
        "no data" if value is None else "no target",
        definition="mean of CSAT scores (1–5) in the period",
    )  # fmt: skip


def csat_satisfied(data: MetricData, period: Period) -> Metric:
    """Share of CSAT responses in the period scoring 4 or 5."""
    scores = in_period(data.responses, "date", period)
    scores = scores.loc[scores["kind"].eq("csat"), "score"].astype(float)
    return _ratio(
        "csat_satisfied", "CSAT satisfied", int((scores >= 4).sum()), len(scores),
        definition="CSAT responses scoring 4–5 / CSAT responses",
    )  # fmt: skip


def renewal_success(data: MetricData, period: Period) -> Metric:
    """Renewals due in the period renewed on time / renewals due (decided or past due)."""
    due = renewals_due(data, period)
    return _ratio(
        "renewal_success", "Renewal success", int(due["on_time"].sum()), len(due),
        definition="renewed, expanded or downgraded with a close date on or before the due "
        "date / renewals due in the period (decided or past due)",
    )  # fmt: skip


def time_to_value(data: MetricData, period: Period) -> Metric:
    """Mean days from start to activation, over accounts activated in the period."""
    days = activation_days(data)
    activated = data.accounts["activated_on"].astype("string")
    in_period = (activated >= period.start.isoformat()) & (activated <= period.end.isoformat())
    days = days[in_period.fillna(False).astype(bool)].dropna()
    value = round(float(days.mean()), 1) if len(days) else None
    target = TARGETS["time_to_value"]
    return Metric(
        "time_to_value", "Time to value", value, _num(days.sum()), len(days), "days", target,
        target.status(value), definition="mean days from start date to activation, accounts "
        "activated in the period",
    )  # fmt: skip


def activated_within_30(data: MetricData, period: Period) -> Metric:
    """Accounts started in the period (at least 30 days ago, or already activated) that
    reached activation within 30 days of their start."""
    accounts = data.accounts
    started = in_period(accounts, "start_date", period)
    days = activation_days(data).loc[started.index]
    old_enough = started["start_date"] <= (data.today - timedelta(days=30)).isoformat()
    eligible = old_enough | days.notna()
    return _ratio(
        "activated_30", "Activated ≤ 30 days", int((days[eligible] <= 30).sum()),
        int(eligible.sum()),
        definition="accounts started in the period activated within 30 days / those started "
        "at least 30 days ago or already activated",
    )  # fmt: skip


def activation_days(data: MetricData) -> pd.Series:
    """Days from start date to activation per account row (NaN when either is missing)."""
    start = pd.to_datetime(data.accounts["start_date"], errors="coerce")
    activated = pd.to_datetime(data.accounts["activated_on"], errors="coerce")
    return (activated - start).dt.days.clip(lower=0)


def expansion_rate(data: MetricData, period: Period) -> Metric:
    """Accounts active at the start with an expanding renewal in the period / those accounts."""
    cohort = at_start(data, period)
    grew = cohort[cohort].index.isin(expanding_accounts(data, period)).sum()
    return _ratio(
        "expansion_rate", "Expansion rate", int(grew), int(cohort.sum()),
        definition="accounts active at the start whose ARR grew at a renewal in the period / "
        "accounts active at the start",
    )  # fmt: skip


def save_rate(data: MetricData, period: Period) -> Metric:
    """Save plans closed in the period as saved / save plans closed in the period."""
    closed = in_period(data.save_plans, "closed_on", period)
    return _ratio(
        "save_rate", "Save rate", int(closed["status"].eq("saved").sum()), len(closed),
        definition="save plans closed as saved / save plans closed in the period",
    )  # fmt: skip


# -- metrics that read health snapshots ---------------------------------------------------------


def band_of_accounts(book, data: MetricData, day: date) -> pd.DataFrame:
    """Each account active on `day` with its band and score then (today: the current score)."""
    active = active_on(data, day)
    accounts = data.accounts.set_index("id").loc[active[active].index]
    frame = accounts[["name", "arr", "health_band", "health_score"]].rename(
        columns={"health_band": "band", "health_score": "score"}
    )
    if day < data.today:
        since = (day - timedelta(days=SNAPSHOT_LOOKBACK_DAYS)).isoformat()
        with book.read() as conn:
            found = history.latest_in_window(conn, frame.index.tolist(), since, day.isoformat())
        snapshot = pd.DataFrame(
            [(k, *v) for k, v in found.items()], columns=["id", "band", "score"]
        ).set_index("id")
        snapshot = snapshot.reindex(frame.index)
        frame["band"], frame["score"] = snapshot["band"], snapshot["score"]
    frame["band"] = frame["band"].where(frame["band"].isin(BANDS), "insufficient")
    return frame


def health_distribution(book, data: MetricData, period: Period) -> Metric:
    """Accounts by band (count and ARR) at the period's end (today if it has not ended)."""
    day = min(period.end, data.today)
    bands = band_of_accounts(book, data, day)
    counts = bands["band"].value_counts()
    arr = bands.groupby("band")["arr"].sum()
    detail: dict[str, float] = {}
    for band in BANDS:
        detail[band] = int(counts.get(band, 0))
        detail[f"{band}_arr"] = _num(arr.get(band, 0.0))
    metric = _ratio(
        "health_distribution", "Healthy (green)", detail["green"], len(bands),
        definition=f"accounts in the green band / active accounts on {day.isoformat()}",
        detail=detail,
    )  # fmt: skip
    return metric


def health_at_renewal(book, data: MetricData, period: Period) -> Metric:
    """Mean health score from each renewal's latest snapshot on or before its due date
    (over the renewals `renewals_due` counts: due in the period, decided or past due)."""
    scores = scores_before_due(book, period, data.today)
    total = float(scores.sum())
    value = round(total / len(scores), 1) if len(scores) else None
    return Metric(
        "health_at_renewal", "Health at renewal", value, _num(total), len(scores), "score",
        None, "no data" if value is None else "no target",
        definition="mean health score on the latest snapshot on or before each due date",
    )  # fmt: skip


def scores_before_due(book, period: Period, today: date) -> pd.Series:
    """Per renewal id: the latest snapshot score on or before its due date; renewals without
    a snapshot are left out."""
    scores: dict[str, float] = {}
    with book.read() as conn:
        rows = conn.execute(
            "SELECT id, account_id, due_date FROM renewals WHERE due_date >= ? AND due_date <= ? "
            "AND (outcome IS NOT NULL OR due_date <= ?)",
            (period.start.isoformat(), period.end.isoformat(), today.isoformat()),
        ).fetchall()
        for rid, account, due in rows:
            snap = history.latest_snapshot(conn, account, until=due, scored=True)
            if snap is not None:
                scores[rid] = float(snap["score"])
    return pd.Series(scores, dtype=float)


# -- breakdowns and trends ---------------------------------------------------------------------


@dataclass
class NpsGroup:
    """NPS of one segment, tier or owner."""

    group: str
    nps: float | None
    promoters: int
    passives: int
    detractors: int
    responses: int


def nps_by(data: MetricData, period: Period, by: str = "segment") -> list[NpsGroup]:
    """NPS per segment, tier or owner (accounts without one grouped as "(none)")."""
    if by not in ("segment", "tier", "owner"):
        raise ValueError(f"NPS can be broken down by segment, tier or owner, not {by!r}")
    latest = latest_nps(data, period)
    groups = data.accounts.set_index("id")[by].fillna("(none)")
    latest = latest.assign(by=latest["account_id"].map(groups).fillna("(none)"))
    table = pd.crosstab(latest["by"], latest["group"])
    out = []
    for name, row in table.iterrows():
        promoters, detractors = int(row.get("promoter", 0)), int(row.get("detractor", 0))
        total = int(row.sum())
        score = round(100.0 * (promoters - detractors) / total, 1) if total else None
        out.append(NpsGroup(str(name), score, promoters, int(row.get("passive", 0)),
                            detractors, total))  # fmt: skip
    return sorted(out, key=lambda g: g.group)


@dataclass
class Trends:
    """Monthly series for the last months, oldest first (None where a month has no data)."""

    labels: list[str]
    health_share: dict[str, list[float | None]]  # % of scored accounts per band
    nps: list[float | None]
    grr: list[float | None]
    nrr: list[float | None]


def monthly_trends(book, months: int = 12, today: date | None = None) -> Trends:
    """Health mix, NPS, GRR and NRR for each of the last `months` calendar months (each
    month computed exactly as `nps`, `grr` and `nrr` would for that month alone)."""
    periods = last_months(months, today)
    whole = Period(periods[0].start, periods[-1].end, "range")
    data = load_metric_data(book, whole.start, whole.end, today)
    keys = [p.start.strftime("%Y-%m") for p in periods]
    decided = renewals_decided(data, whole)
    by_month = decided.assign(month=decided["due_date"].str.slice(0, 7)).groupby("month")
    sums = by_month[["arr_before", "churned_arr", "contraction", "expansion"]].sum()
    sums = sums.reindex(keys)
    kept = sums["arr_before"] - sums["churned_arr"] - sums["contraction"]
    return Trends(
        labels=[p.start.strftime("%b") for p in periods],
        health_share=_health_mix_by_month(book, periods),
        nps=_nps_by_month(data, whole, keys),
        grr=_percentages(kept, sums["arr_before"]),
        nrr=_percentages(kept + sums["expansion"], sums["arr_before"]),
    )


def _nps_by_month(data: MetricData, whole: Period, keys: list[str]) -> list[float | None]:
    """NPS per month: the latest response per contact (or contactless account) in each."""
    frame = in_period(data.responses, "date", whole)
    frame = frame[frame["kind"].eq("nps")]
    who = frame["contact_id"].where(
        frame["contact_id"].notna(), "account:" + frame["account_id"].astype(str)
    )
    frame = frame.assign(who=who, month=frame["date"].str.slice(0, 7))
    latest = frame.sort_values(["date", "id"]).drop_duplicates(["month", "who"], keep="last")
    score = latest["score"].astype(float)
    net = (score >= 9).astype(int) - (score <= 6).astype(int)
    grouped = net.groupby(latest["month"]).agg(["sum", "count"]).reindex(keys)
    return _percentages(grouped["sum"], grouped["count"])


def _percentages(numerator: pd.Series, denominator: pd.Series) -> list[float | None]:
    """100 × numerator / denominator per item, None where the denominator is 0 or missing."""
    out = []
    for num, den in zip(numerator.tolist(), denominator.tolist(), strict=True):
        out.append(None if not den or pd.isna(den) else round(100.0 * num / den, 2))
    return out


def _health_mix_by_month(book, periods: list[Period]) -> dict[str, list[float | None]]:
    """Per month: the share of the month's scored health snapshots in each band."""
    # Shares of the month's snapshots: with a regular cadence (daily, weekly or monthly
    # rescoring) every account weighs the same, and one pass over the date index suffices.
    counts: dict[str, Counter] = {}
    with book.read() as conn:
        start, end = periods[0].start.isoformat(), periods[-1].end.isoformat()
        for day in history.snapshot_days(conn, start, end):
            counts.setdefault(day[:7], Counter()).update(history.band_counts(conn, day))
    mix: dict[str, list[float | None]] = {band: [] for band in ("green", "yellow", "red")}
    for period in periods:
        month = counts.get(period.start.strftime("%Y-%m"), {})
        total = sum(month.get(band, 0) for band in mix)  # scored snapshots only
        for band in mix:
            mix[band].append(round(100.0 * month.get(band, 0) / total, 1) if total else None)
    return mix
