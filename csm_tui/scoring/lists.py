"""Account lists for the list screen: seed 004's quick actions and the accounts behind a metric.

Every list is an `AccountList` of `ListRow`s (account, ARR, current health, and a `detail`
sentence saying why the account is on the list). Rows without an account id are groups (NPS
by segment); their `drill` key names the list that opens from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from csm_tui import clock
from csm_tui.scoring import metrics as m
from csm_tui.scoring.list_names import LIST_TITLES
from csm_tui.scoring.periods import Period

#: How long an account may take to reach first value before its onboarding counts as stalled.
STALLED_AFTER_DAYS = 30


@dataclass
class ListRow:
    """One line of a list: an account (or a group when account_id is None) and why it is here."""

    account_id: str | None
    name: str
    segment: str
    owner: str
    arr: float
    health_score: float | None
    health_band: str
    detail: str
    drill: str | None = None  # for group rows: the list key that opens from this row


@dataclass
class AccountList:
    """A titled list of rows with the rule that selected them."""

    key: str
    title: str
    criteria: str
    rows: list[ListRow] = field(default_factory=list)

    @property
    def account_ids(self) -> list[str]:
        """The ids of the accounts on the list (group rows left out)."""
        return [row.account_id for row in self.rows if row.account_id]


def open_list(book, key: str, period: Period | None = None, today: date | None = None
              ) -> AccountList:  # fmt: skip
    """The list named `key`: a LIST_TITLES key, `metric:<metric key>` (needs `period`), or
    `segment_nps:<segment>` (the respondents of one segment; needs `period`)."""
    today = today or clock.today()
    if key.startswith("metric:"):
        return accounts_behind(book, key.split(":", 1)[1], _need(period, key), today)
    if key.startswith("segment_nps:"):
        return segment_respondents(book, key.split(":", 1)[1], _need(period, key), today)
    makers = {
        "expansion": expansion_candidates,
        "advocacy": advocacy_candidates,
        "onboarding": onboarding_pipeline,
        "renewals90": renewals_next_90,
        "at_risk": at_risk_accounts,
    }
    if key == "nps_segment":
        return nps_by_segment(book, period, today)
    if key not in makers:
        raise ValueError(f"no list named {key!r}; lists: {', '.join(LIST_TITLES)}")
    return makers[key](book, today)


def _need(period: Period | None, key: str) -> Period:
    if period is None:
        raise ValueError(f"the list {key!r} needs a period")
    return period


# -- shared reads ------------------------------------------------------------------------------


def _accounts(book, where: str = "1", params: tuple = ()) -> pd.DataFrame:
    rows = book.query(
        "SELECT id, name, segment, owner, arr, health_score, health_band, status, start_date, "
        "activated_on, renewal_date, onboarding_pct, seats, sponsor_engaged FROM scored_accounts "
        f"WHERE {where}",
        params,
    )
    columns = [
        "id", "name", "segment", "owner", "arr", "health_score", "health_band", "status",
        "start_date", "activated_on", "renewal_date", "onboarding_pct", "seats",
        "sponsor_engaged",
    ]  # fmt: skip
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


def _row(account, detail: str) -> ListRow:
    score = account.get("health_score")
    return ListRow(
        account_id=str(account["id"]),
        name=str(account["name"]),
        segment=_text(account.get("segment")),
        owner=_text(account.get("owner")),
        arr=float(account.get("arr") or 0.0),
        health_score=None if pd.isna(score) else float(score),
        health_band=_text(account.get("health_band")) or "insufficient",
        detail=detail,
    )


def _score(account) -> str:
    score = account.get("health_score")
    return "not scored" if score is None or pd.isna(score) else f"{score:.0f}"


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def latest_account_nps(book) -> pd.DataFrame:
    """Each account's latest NPS response ever: account_id, score, date."""
    rows = book.query(
        "SELECT account_id, score, max(date) FROM responses WHERE kind = 'nps' GROUP BY account_id"
    )
    return pd.DataFrame([tuple(r) for r in rows], columns=["account_id", "score", "date"])


def latest_adoption(book, today: date) -> pd.DataFrame:
    """Each account's adoption on its latest usage snapshot of the last 90 days.

    Adoption is core features used / total when the data has features, else active users /
    licensed seats; `seat_use` is active users / seats.
    """
    since = (today - timedelta(days=90)).isoformat()
    rows = book.query(
        "SELECT account_id, seats, active_users, features_used, features_total, max(date) "
        "FROM usage WHERE date >= ? GROUP BY account_id",
        (since,),
    )
    frame = pd.DataFrame(
        [tuple(r)[:5] for r in rows],
        columns=["account_id", "seats", "active_users", "features_used", "features_total"],
    ).astype({"seats": float, "active_users": float, "features_used": float,
              "features_total": float})  # fmt: skip
    seat_use = frame["active_users"] / frame["seats"].where(frame["seats"] > 0)
    features = frame["features_used"] / frame["features_total"].where(frame["features_total"] > 0)
    frame["seat_use"] = seat_use
    frame["adoption"] = features.fillna(seat_use)
    return frame


# -- the quick-action lists (seed 004) ---------------------------------------------------------


def expansion_candidates(book, today: date | None = None) -> AccountList:
    """Seed 004's readiness: green, adoption above the segment average, latest NPS ≥ 8,
    an executive sponsor in place (an active sponsor contact, or sponsor engaged)."""
    today = today or clock.today()
    accounts = _accounts(book, "status = 'active'")
    usage = latest_adoption(book, today).set_index("account_id")
    accounts["adoption"] = accounts["id"].map(usage["adoption"])
    accounts["seat_use"] = accounts["id"].map(usage["seat_use"])
    accounts["segment_avg"] = accounts.groupby(accounts["segment"].fillna(""))[
        "adoption"
    ].transform("mean")
    accounts["nps"] = accounts["id"].map(latest_account_nps(book).set_index("account_id")["score"])
    sponsors = {r[0] for r in book.query(
        "SELECT DISTINCT account_id FROM contacts WHERE role = 'sponsor' AND active = 1")}  # fmt: skip
    has_sponsor = accounts["id"].isin(sponsors) | accounts["sponsor_engaged"].eq(1)
    ready = accounts[
        accounts["health_band"].eq("green")
        & (accounts["adoption"] > accounts["segment_avg"])
        & (accounts["nps"] >= 8)
        & has_sponsor
    ].sort_values("arr", ascending=False)
    rows = [_row(a, _expansion_detail(a)) for a in ready.to_dict("records")]
    return AccountList(
        "expansion", LIST_TITLES["expansion"],
        "green, adoption above the segment average, latest NPS ≥ 8, executive sponsor in place",
        rows,
    )  # fmt: skip


def _expansion_detail(account: dict) -> str:
    text = (
        f"adoption {account['adoption']:.0%} (segment avg {account['segment_avg']:.0%}) · "
        f"NPS {account['nps']:.0f}"
    )
    if not pd.isna(account["seat_use"]):
        text += f" · seats used {account['seat_use']:.0%}"
    return text


def advocacy_candidates(book, today: date | None = None) -> AccountList:
    """Accounts whose latest NPS is 9–10 and whose health is green (case studies, references)."""
    accounts = _accounts(book, "status = 'active' AND health_band = 'green'")
    latest = latest_account_nps(book).set_index("account_id")
    accounts["nps"] = accounts["id"].map(latest["score"])
    accounts["nps_date"] = accounts["id"].map(latest["date"])
    chosen = accounts[accounts["nps"] >= 9].sort_values(["nps", "arr"], ascending=False)
    rows = [
        _row(a, f"NPS {a['nps']:.0f} on {str(a['nps_date'])[:10]} · health {_score(a)}")
        for a in chosen.to_dict("records")
    ]
    return AccountList("advocacy", LIST_TITLES["advocacy"],
                       "latest NPS 9–10 and health green", rows)  # fmt: skip


def onboarding_pipeline(book, today: date | None = None) -> AccountList:
    """Active accounts not yet activated, stalled ones (past day 30) first."""
    today = today or clock.today()
    accounts = _accounts(
        book, "status = 'active' AND activated_on IS NULL AND start_date IS NOT NULL"
    )
    started = pd.to_datetime(accounts["start_date"], errors="coerce")
    accounts["day"] = (pd.Timestamp(today) - started).dt.days
    accounts = accounts[accounts["day"] >= 0].sort_values("day", ascending=False)
    rows = []
    for account in accounts.to_dict("records"):
        stalled = account["day"] > STALLED_AFTER_DAYS
        pct = account["onboarding_pct"]
        done = "" if pd.isna(pct) else f" · {pct:.0f}% onboarded"
        state = "stalled: not activated by day 30" if stalled else "in onboarding"
        rows.append(_row(account, f"day {account['day']:.0f}{done} · {state}"))
    return AccountList("onboarding", LIST_TITLES["onboarding"],
                       "started, not yet activated (stalled after day 30)", rows)  # fmt: skip


def renewals_next_90(book, today: date | None = None) -> AccountList:
    """Active accounts whose renewal date falls in the next 90 days, soonest first."""
    today = today or clock.today()
    horizon = (today + timedelta(days=90)).isoformat()
    accounts = _accounts(
        book, "status = 'active' AND renewal_date >= ? AND renewal_date <= ?",
        (today.isoformat(), horizon),
    ).sort_values("renewal_date")  # fmt: skip
    calls = {r[0]: r[1] for r in book.query(
        "SELECT account_id, csm_call FROM renewals WHERE outcome IS NULL AND due_date >= ? "
        "AND due_date <= ? AND csm_call IS NOT NULL", (today.isoformat(), horizon))}  # fmt: skip
    rows = []
    for account in accounts.to_dict("records"):
        days = (date.fromisoformat(account["renewal_date"]) - today).days
        call = calls.get(account["id"])
        detail = f"due {account['renewal_date']} (in {days} day{'' if days == 1 else 's'})"
        rows.append(_row(account, detail + (f" · call: {call.replace('_', ' ')}" if call else "")))
    return AccountList("renewals90", LIST_TITLES["renewals90"],
                       "renewal date within 90 days of today", rows)  # fmt: skip


def at_risk_accounts(book, today: date | None = None) -> AccountList:
    """Red, then yellow, active accounts (lowest score first)."""
    accounts = _accounts(book, "status = 'active' AND health_band IN ('red', 'yellow')")
    accounts = accounts.sort_values(["health_score"], na_position="last")
    rows = [_row(a, f"{a['health_band']} · health {_score(a)}")
            for a in accounts.to_dict("records")]  # fmt: skip
    return AccountList("at_risk", LIST_TITLES["at_risk"], "health band red or yellow", rows)


def nps_by_segment(book, period: Period | None, today: date | None = None) -> AccountList:
    """One group row per segment with its NPS in the period (Enter lists its respondents)."""
    from csm_tui.scoring.periods import quarter_of

    period = period or quarter_of(today or clock.today())
    data = m.load_metric_data(book, period.start, period.end, today)
    rows = [
        ListRow(None, group.group, group.group, "", 0.0, group.nps, "",
                f"NPS {_signed(group.nps)} · {group.promoters} promoters, {group.passives} "
                f"passives, {group.detractors} detractors",
                drill=f"segment_nps:{group.group}")
        for group in m.nps_by(data, period, "segment")
    ]  # fmt: skip
    return AccountList("nps_segment", f"NPS by segment, {period.label}",
                       "latest response per contact in the period", rows)  # fmt: skip


def _signed(value: float | None) -> str:
    return "no data" if value is None else f"{value:+.0f}"


def segment_respondents(book, segment: str, period: Period, today: date | None) -> AccountList:
    """Accounts of one segment with their responses counted in the period's NPS."""
    data = m.load_metric_data(book, period.start, period.end, today)
    latest = m.latest_nps(data, period)
    accounts = data.accounts.set_index("id")
    wanted = accounts.index[accounts["segment"].fillna("(none)").eq(segment)]
    latest = latest[latest["account_id"].isin(wanted)]
    return _rows_from(
        data, latest, f"segment_nps:{segment}", f"NPS respondents, {segment}, {period.label}",
        "latest response per contact in the period",
        lambda r: f"NPS {r['score']:.0f} ({r['group']}) on {r['date']}",
    )  # fmt: skip


# -- the accounts behind a metric tile ---------------------------------------------------------


def _rows_from(data, frame, key, title, criteria, describe) -> AccountList:
    """Rows for `frame` (which has account_id), described row by row, joined to accounts."""
    accounts = data.accounts.rename(columns={"id": "account_id"})
    # The frame's own columns win (a save plan's status is not its account's status).
    wanted = [c for c in accounts.columns if c not in frame.columns or c == "account_id"]
    joined = frame.merge(accounts[wanted], on="account_id", how="left", sort=False)
    rows = []
    for record in joined.to_dict("records"):
        rows.append(_row({**record, "id": record["account_id"]}, describe(record)))
    return AccountList(key, title, criteria, rows)


def accounts_behind(book, key: str, period: Period, today: date | None = None) -> AccountList:
    """The accounts a metric was computed from, with what each contributed."""
    data = m.load_metric_data(book, period.start, period.end, today)
    builders = {
        "grr": _behind_arr, "nrr": _behind_arr, "logo_churn": _behind_churn,
        "retention": _behind_retention, "expansion_rate": _behind_expansion,
        "nps": _behind_nps, "renewal_success": _behind_renewals,
        "health_at_renewal": _behind_renewals, "csat": _behind_csat,
        "csat_satisfied": _behind_csat, "time_to_value": _behind_activation,
        "activated_30": _behind_activation, "save_rate": _behind_saves,
        "health_distribution": None,
    }  # fmt: skip
    if key not in builders:
        raise ValueError(f"no metric named {key!r}")
    title = f"{_metric_label(key)}, {period.label}"
    if key == "health_distribution":
        return _behind_health(book, data, period, title)
    return builders[key](data, period, f"metric:{key}", title)


def _metric_label(key: str) -> str:
    labels = {
        "grr": "GRR", "nrr": "NRR", "logo_churn": "Logo churn", "retention": "Retention",
        "expansion_rate": "Expansion rate", "nps": "NPS", "renewal_success": "Renewal success",
        "health_at_renewal": "Health at renewal", "csat": "CSAT", "csat_satisfied": "CSAT",
        "time_to_value": "Time to value", "activated_30": "Activation within 30 days",
        "save_rate": "Save rate", "health_distribution": "Health distribution",
    }  # fmt: skip
    return labels[key]


def _money(value: float) -> str:
    return f"${value:,.0f}"


def _behind_arr(data, period, key, title) -> AccountList:
    decided = m.renewals_decided(data, period).sort_values("due_date")

    def describe(r) -> str:
        after = "churned" if r["outcome"] == "churned" else _money(
            r["arr_after"] if not pd.isna(r["arr_after"]) else r["arr_before"])  # fmt: skip
        outcome = "" if r["outcome"] == "churned" else f" ({r['outcome']})"
        return f"{r['due_date']}: {_money(r['arr_before'])} → {after}{outcome}"

    return _rows_from(data, decided, key, title, "renewals due in the period with an outcome",
                      describe)  # fmt: skip


def _behind_churn(data, period, key, title) -> AccountList:
    cohort = m.at_start(data, period)
    churned = m.churned_in(data, period)
    ids = [i for i in churned if cohort.get(i, False)]
    frame = pd.DataFrame({"account_id": ids})
    return _rows_from(data, frame, key, title, "active at the start, churned in the period",
                      lambda r: "churned in the period")  # fmt: skip


def _behind_retention(data, period, key, title) -> AccountList:
    cohort = m.at_start(data, period)
    still = m.active_on(data, period.end)
    ids = list(cohort[cohort].index)
    frame = pd.DataFrame({"account_id": ids, "kept": [bool(still.get(i, False)) for i in ids]})
    frame = frame.sort_values("kept", kind="stable")
    return _rows_from(data, frame, key, title, "accounts active at the start of the period",
                      lambda r: "still active at the end" if r["kept"] else "lost by the end")  # fmt: skip


def _behind_expansion(data, period, key, title) -> AccountList:
    cohort = m.at_start(data, period)
    ids = [i for i in m.expanding_accounts(data, period) if cohort.get(i, False)]
    decided = m.renewals_decided(data, period)
    grown = decided[decided["account_id"].isin(ids) & (decided["expansion"] > 0)]
    return _rows_from(data, grown, key, title, "ARR grew at a renewal in the period",
                      lambda r: f"+{_money(r['expansion'])} on {r['due_date']}")  # fmt: skip


def _behind_nps(data, period, key, title) -> AccountList:
    latest = m.latest_nps(data, period).sort_values("score")
    return _rows_from(data, latest, key, title, "latest response per contact in the period",
                      lambda r: f"NPS {r['score']:.0f} ({r['group']}) on {r['date']}")  # fmt: skip


def _behind_renewals(data, period, key, title) -> AccountList:
    due = m.renewals_due(data, period).sort_values(["on_time", "due_date"])

    def describe(r) -> str:
        if r["on_time"]:
            return f"due {r['due_date']}: {r['outcome']} on time"
        if pd.isna(r["outcome"]):
            return f"due {r['due_date']}: not decided yet"
        closed = "" if pd.isna(r["closed_on"]) else f", closed {r['closed_on']}"
        return f"due {r['due_date']}: {r['outcome']}{closed}"

    return _rows_from(data, due, key, title, "renewals due in the period", describe)


def _behind_csat(data, period, key, title) -> AccountList:
    frame = m.in_period(data.responses, "date", period)
    frame = frame[frame["kind"].eq("csat")].sort_values("score")
    return _rows_from(data, frame, key, title, "CSAT responses in the period",
                      lambda r: f"CSAT {r['score']:.0f}/5 on {r['date']}")  # fmt: skip


def _behind_activation(data, period, key, title) -> AccountList:
    accounts = data.accounts
    days = m.activation_days(data)
    column = "activated_on" if key.endswith("time_to_value") else "start_date"
    chosen = m.in_period(accounts.assign(days=days), column, period)
    frame = chosen.rename(columns={"id": "account_id"})

    def describe(r) -> str:
        if pd.isna(r["days"]):
            return f"started {r['start_date']}, not activated yet"
        return f"activated {r['days']:.0f} days after its start ({r['activated_on']})"

    return _rows_from(data, frame, key, title, f"{column.replace('_', ' ')} in the period",
                      describe)  # fmt: skip


def _behind_saves(data, period, key, title) -> AccountList:
    closed = m.in_period(data.save_plans, "closed_on", period)
    return _rows_from(data, closed, key, title, "save plans closed in the period",
                      lambda r: f"save plan {r['status']} on {r['closed_on']}")  # fmt: skip


def _behind_health(book, data, period, title) -> AccountList:
    day = min(period.end, data.today)
    bands = m.band_of_accounts(book, data, day)
    order = {band: i for i, band in enumerate(("red", "yellow", "green", "insufficient"))}
    bands = bands.assign(order=bands["band"].map(order)).sort_values(["order", "score"])
    frame = bands.reset_index().rename(columns={"id": "account_id"})

    def describe(r) -> str:
        score = "" if pd.isna(r["score"]) else f" · {r['score']:.0f}"
        return f"{r['band']}{score} on {day.isoformat()}"

    return _rows_from(data, frame, "metric:health_distribution", title,
                      f"active accounts on {day.isoformat()}", describe)  # fmt: skip
