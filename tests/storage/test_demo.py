"""The demo book: deterministic, realistic, internally consistent, and useful to learn from."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from csm_tui.errors import UsageError
from csm_tui.storage.db import open_book
from csm_tui.storage.demo import (
    PLANTED,
    TABLE_COLS,
    USAGE_MONTHS,
    build_demo_tables,
    generate_demo,
    history_dates,
)
from csm_tui.storage.maintenance import check_book

TODAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def demo_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 300-account demo book (raw data, no scoring), built once for the read-only tests."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    book = open_book(path)
    try:
        generate_demo(book, accounts=300, seed=11, today=TODAY)
    finally:
        book.close()
    return path


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    """A 1,500-account book as data frames (enough renewals to measure the signal)."""
    rows, _ = build_demo_tables(1500, 3, TODAY)
    return {t: pd.DataFrame(r, columns=TABLE_COLS[t]) for t, r in rows.items()}


def _query(path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def test_same_seed_and_day_give_identical_books_and_others_differ():
    first, churned = build_demo_tables(200, 5, TODAY)
    again, churned_again = build_demo_tables(200, 5, TODAY)
    assert first == again and churned == churned_again
    other_seed, _ = build_demo_tables(200, 6, TODAY)
    assert other_seed["accounts"] != first["accounts"]
    assert other_seed["usage"] != first["usage"]
    next_day, _ = build_demo_tables(200, 5, TODAY + timedelta(days=1))
    assert next_day["usage"][0][1] == "2026-11-24"


def test_accounts_are_unique_and_plausible(demo_book: Path):
    rows = _query(demo_book, "SELECT id, name, segment, arr, seats, owner, status FROM accounts")
    assert len(rows) == 300
    assert len({r[0] for r in rows}) == 300 and len({r[1] for r in rows}) == 300
    assert rows[0][:2] == ("ACC-000001", PLANTED[0].name)
    assert {r[2] for r in rows} == {"SMB", "Mid-Market", "Enterprise"}
    live = [r for r in rows if r[6] == "active"]
    assert all(r[3] > 0 and r[4] >= 3 for r in live)
    mean_arr = {
        s: np.mean([r[3] for r in live if r[2] == s]) for s in ("SMB", "Mid-Market", "Enterprise")
    }
    assert mean_arr["SMB"] < mean_arr["Mid-Market"] < mean_arr["Enterprise"]
    owners = [r[5] for r in rows]
    assert owners.count("Alex Morgan") > len(rows) / 2 and len(set(owners)) >= 3


def test_usage_is_twelve_monthly_snapshots_and_none_after_churn(demo_book: Path):
    expected = {(TODAY - timedelta(days=30 * k)).isoformat() for k in range(USAGE_MONTHS)}
    dates = {r[0] for r in _query(demo_book, "SELECT DISTINCT date FROM usage")}
    assert dates == expected
    per_account = _query(
        demo_book,
        "SELECT count(*) FROM usage u JOIN accounts a ON a.id = u.account_id "
        "WHERE a.status = 'active' AND a.start_date <= ? GROUP BY u.account_id",
        ((TODAY - timedelta(days=340)).isoformat(),),
    )
    assert per_account and all(n == USAGE_MONTHS for (n,) in per_account)
    after_churn = _query(
        demo_book,
        "SELECT count(*) FROM usage u JOIN accounts a ON a.id = u.account_id "
        "WHERE a.status = 'churned' AND u.date >= a.renewal_date",
    )
    assert after_churn == [(0,)]
    assert _query(demo_book, "SELECT count(*) FROM usage WHERE mau > seats") == [(0,)]


def test_renewals_one_open_per_active_account_spread_over_the_next_year(demo_book: Path):
    open_rows = _query(
        demo_book,
        "SELECT a.id, r.due_date, a.renewal_date, r.arr_before, a.arr FROM accounts a "
        "JOIN renewals r ON r.account_id = a.id AND r.outcome IS NULL WHERE a.status = 'active'",
    )
    active = _query(demo_book, "SELECT count(*) FROM accounts WHERE status = 'active'")[0][0]
    assert len(open_rows) == active == len({r[0] for r in open_rows})
    assert all(r[1] == r[2] and r[3] == r[4] for r in open_rows)
    days = [(date.fromisoformat(r[1]) - TODAY).days for r in open_rows]
    assert min(days) > 0 and max(days) <= 366
    assert len({d // 30 for d in days}) >= 11  # every month of the coming year
    past = _query(demo_book, "SELECT due_date FROM renewals WHERE outcome IS NOT NULL")
    assert past and all(
        TODAY - timedelta(days=300) <= date.fromisoformat(d) < TODAY for (d,) in past
    )


def test_churned_accounts_are_consistent(demo_book: Path):
    rows = _query(
        demo_book,
        "SELECT a.id, a.stage, a.arr, r.outcome, r.arr_after, r.due_date, a.renewal_date "
        "FROM accounts a JOIN renewals r ON r.account_id = a.id WHERE a.status = 'churned'",
    )
    assert rows
    for _id, stage, arr, outcome, arr_after, due, renewal in rows:
        assert (stage, arr, outcome, arr_after) == ("churned", 0.0, "churned", 0.0)
        assert due == renewal


def test_churned_share_is_realistic():
    _rows, churned = build_demo_tables(3000, 21, TODAY)
    assert 0.12 <= churned / 3000 <= 0.18


def test_signals_before_renewal_separate_churned_from_renewed_but_not_perfectly(tables):
    """Seat utilisation as of 30 days before each known-outcome renewal, from earlier data."""
    usage, renewals = tables["usage"], tables["renewals"]
    known = renewals[renewals["outcome"].notna()].copy()
    known["cutoff"] = (pd.to_datetime(known["due_date"]) - pd.Timedelta(days=30)).dt.strftime(
        "%Y-%m-%d"
    )
    merged = known.merge(usage, on="account_id")
    merged = merged[merged["date"] <= merged["cutoff"]]
    latest = merged.sort_values("date").groupby("id").tail(1)
    latest = latest.assign(util=latest["mau"] / latest["seats"])
    churned = latest[latest["outcome"] == "churned"]["util"]
    renewed = latest[latest["outcome"] != "churned"]["util"]
    assert len(churned) >= 50 and len(renewed) >= 200
    assert churned.mean() < renewed.mean() - 0.05
    from sklearn.metrics import roc_auc_score

    auc = roc_auc_score(latest["outcome"] == "churned", -latest["util"])
    assert 0.6 < auc < 0.95  # informative, and noisy


def test_every_alert_situation_is_planted_in_a_small_book(tmp_path: Path):
    book = open_book(tmp_path / "small.db")
    try:
        generate_demo(book, accounts=60, seed=1, today=TODAY)
        by_name = {r["name"]: r["id"] for r in book.query("SELECT id, name FROM accounts")}
        mau = {
            (r["account_id"], r["date"]): r["mau"]
            for r in book.query("SELECT account_id, date, mau FROM usage")
        }
        today, month_ago = TODAY.isoformat(), (TODAY - timedelta(days=30)).isoformat()
        northwind = by_name["Northwind Logistics"]
        assert mau[(northwind, today)] <= 0.7 * mau[(northwind, month_ago)]
        assert book.scalar(
            "SELECT count(*) FROM tickets WHERE account_id = ? AND severity = 1 AND status = 'open'",
            (northwind,),
        )
        assert (
            book.scalar(
                "SELECT min(score) FROM responses WHERE account_id = ? AND kind = 'nps' AND date >= ?",
                (northwind, (TODAY - timedelta(days=7)).isoformat()),
            )
            <= 6
        )
        left = book.query(
            "SELECT role FROM contacts WHERE active = 0 AND left_on >= ?",
            ((TODAY - timedelta(days=30)).isoformat(),),
        )
        assert {r["role"] for r in left} >= {"champion", "sponsor"}
        assert book.scalar(
            "SELECT count(*) FROM accounts WHERE activated_on IS NULL AND status = 'active' "
            "AND start_date <= ?",
            ((TODAY - timedelta(days=30)).isoformat(),),
        )
        harbor = by_name["Harborview Clinics"]
        recent = book.scalar(
            "SELECT count(*) FROM tickets WHERE account_id = ? AND opened_at >= ?",
            (harbor, (TODAY - timedelta(days=14)).isoformat()),
        )
        assert recent >= 5
        summit = by_name["Summit Analytics"]
        assert mau[(summit, today)] >= 0.9 * 60
        assert book.scalar(
            "SELECT count(*) FROM renewals r JOIN accounts a ON a.id = r.account_id "
            "WHERE r.outcome IS NULL AND r.due_date <= ? AND a.name = 'Ironclad Manufacturing'",
            ((TODAY + timedelta(days=90)).isoformat(),),
        )
        assert len(by_name) == 60
    finally:
        book.close()


def test_a_tiny_book_still_works(tmp_path: Path):
    rows, _ = build_demo_tables(3, 1, TODAY)
    assert [r[1] for r in rows["accounts"]] == [p.name for p in PLANTED[:3]]


def test_book_metadata_and_check_pass(demo_book: Path):
    meta = dict(_query(demo_book, "SELECT key, value FROM meta"))
    assert meta["book_name"] == "Demo book — Alex Morgan"
    assert meta["demo_seed"] == "11"
    report = check_book(demo_book)
    assert report.ok, report.problems


def test_refuses_a_book_with_accounts_unless_forced(tmp_path: Path):
    book = open_book(tmp_path / "mine.db")
    try:
        generate_demo(book, accounts=20, seed=1, today=TODAY)
        with pytest.raises(UsageError, match="already has 20 accounts"):
            generate_demo(book, accounts=30, seed=2, today=TODAY)
        assert book.scalar("SELECT count(*) FROM accounts") == 20
        generate_demo(book, accounts=30, seed=2, today=TODAY, force=True)
        assert book.scalar("SELECT count(*) FROM accounts") == 30
        assert book.scalar("SELECT value FROM meta WHERE key = 'demo_seed'") == "2"
        assert book.scalar("SELECT count(*) FROM playbooks") > 0
    finally:
        book.close()


def test_rejects_a_bad_account_count(book):
    with pytest.raises(UsageError, match="--accounts"):
        generate_demo(book, accounts=0)


def test_history_dates_cover_a_year_and_last_week():
    dates = history_dates(TODAY)
    assert TODAY - timedelta(days=7) in dates and TODAY - timedelta(days=330) in dates
    assert TODAY not in dates and len(dates) == USAGE_MONTHS
    short = history_dates(TODAY, accounts=100_000)
    assert short == [TODAY - timedelta(days=30), TODAY - timedelta(days=7)]


def test_progress_counts_up_to_the_total(tmp_path: Path):
    seen: list[tuple[int, int]] = []
    book = open_book(tmp_path / "p.db")
    try:
        summary = generate_demo(
            book,
            accounts=40,
            seed=1,
            today=TODAY,
            progress=lambda done, total: seen.append((done, total)),
        )
    finally:
        book.close()
    assert seen[-1][0] == seen[-1][1] == sum(summary.rows.values())
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_csm_demo_scores_the_book_and_every_alert_situation_fires(isolated_env, capsys):
    from csm_tui.cli import main
    from csm_tui.paths import demo_db_path

    assert main(["demo", "--accounts", "60", "--seed", "4"]) == 0
    out = capsys.readouterr().out
    path = demo_db_path()  # not the user's own book
    assert str(path) in out and "60 accounts" in out and "csm --demo" in out
    rules = {r for (r,) in _query(path, "SELECT DISTINCT rule FROM alerts WHERE status = 'open'")}
    assert rules >= {
        "score_drop",
        "band_worsened",
        "mau_drop",
        "ticket_spike",
        "detractor_nps",
        "stakeholder_left",
        "renewal_not_green",
        "not_activated",
        "expansion_signal",
    }
    history = _query(
        path, "SELECT count(*) FROM (SELECT date FROM health_days UNION SELECT date FROM health)"
    )[0][0]
    assert history == USAGE_MONTHS + 1  # 11 monthly dates, 7 days ago, today
    bands = {b for (b,) in _query(path, "SELECT DISTINCT health_band FROM accounts")}
    assert {"green", "yellow", "red"} <= bands
    assert main(["demo", "--accounts", "60"]) == 2  # refuses to overwrite without --force
    assert "--force" in capsys.readouterr().err


def test_search_index_covers_demo_accounts_and_still_follows_new_ones(tmp_path: Path):
    book = open_book(tmp_path / "s.db")
    try:
        generate_demo(book, accounts=40, seed=1, today=TODAY)
        found = book.query("SELECT id FROM accounts_fts WHERE accounts_fts MATCH 'orthwin'")
        assert [r["id"] for r in found] == ["ACC-000001"]
        with book.write() as conn:
            conn.execute("INSERT INTO accounts(id, name) VALUES ('NEW-1', 'Zephyrine Optics')")
        found = book.query("SELECT id FROM accounts_fts WHERE accounts_fts MATCH 'ephyrin'")
        assert [r["id"] for r in found] == ["NEW-1"]
    finally:
        book.close()
    assert check_book(tmp_path / "s.db").ok
