"""The engine: what rescore_account / rescore_all write, deltas and movers, risk, backfill."""

from __future__ import annotations

import json
import math
from datetime import timedelta

import numpy as np
import pytest

from csm_tui.errors import NotFound
from csm_tui.scoring import engine
from csm_tui.scoring.config import default_config
from csm_tui.scoring.engine import rescore_account, rescore_all
from csm_tui.scoring.health import score_matrix
from csm_tui.scoring.measures import measures_frame
from csm_tui.storage.history import all_snapshots
from tests.scoring.conftest import TODAY, day
from tests.scoring.synth import build as build_synth


def snapshots(book) -> list[dict]:
    """Every health snapshot of the book (block days and rows alike)."""
    with book.read() as conn:
        return all_snapshots(conn)


def rescore(book, account_id: str = "ACC-1", **kw):
    with book.write() as conn:
        return rescore_account(conn, account_id, **kw)


def test_rescore_writes_the_account_and_one_health_row_per_day(book, build):
    build.healthy()
    first = rescore(book)
    second = rescore(book)
    rows = book.query("SELECT date, score, band, explain FROM health WHERE account_id = 'ACC-1'")
    assert len(rows) == 1 and rows[0]["date"] == TODAY.isoformat()
    assert rows[0]["score"] == second.score == first.score
    points = json.loads(rows[0]["explain"])["points"]
    assert sum(v for v in points.values() if v is not None) == pytest.approx(second.score, abs=0.05)
    acc = book.query("SELECT * FROM scored_accounts WHERE id = 'ACC-1'")[0]
    assert (acc["health_score"], acc["health_band"]) == (second.score, "green")
    assert acc["risk_segment"] == "low" and acc["churn_prob"] is None
    assert acc["last_touch_at"] == day(3) + "T10:00:00"
    assert acc["scored_at"].startswith(TODAY.isoformat())
    assert sum(m.points for m in second.measures if m.points is not None) == pytest.approx(
        second.score, abs=0.05
    )


def test_unknown_account_is_not_found(book):
    with pytest.raises(NotFound):
        rescore(book, "NOPE")


def test_insufficient_data_is_stored_as_such(book, build):
    build.account("ACC-1", seats=None)
    result = rescore(book)
    assert result.score is None and result.band == "insufficient"
    row = book.query("SELECT health_score, health_band, risk_segment FROM scored_accounts")[0]
    assert tuple(row) == (None, "insufficient", None)


def test_deltas_and_movers_against_past_snapshots(book, build):
    build.healthy()
    now = rescore(book)
    past_points = {m.key: m.points for m in now.measures if m.points is not None}
    past_points["last_touch"] = past_points["last_touch"] + 6  # a week ago the touch counted more
    with book.write() as conn:
        for days, score in ((8, now.score + 6), (31, now.score - 4)):
            conn.execute(
                "INSERT INTO health (account_id, date, score, band, explain) VALUES (?, ?, ?, ?, ?)",
                ("ACC-1", day(days), score, "green", json.dumps({"points": past_points})),
            )
    result = rescore(book)
    assert result.delta_7 == pytest.approx(-6)
    assert result.delta_30 == pytest.approx(4)
    assert result.movers[0] == ("Days since last touch", pytest.approx(-6))
    row = book.query("SELECT health_delta_7, health_delta_30 FROM scored_accounts")[0]
    assert tuple(row) == (pytest.approx(-6), pytest.approx(4))


def test_snapshot_outside_the_tolerance_gives_no_delta(book, build):
    build.healthy()
    with book.write() as conn:
        conn.execute(
            "INSERT INTO health (account_id, date, score, band) VALUES ('ACC-1', ?, 50, 'red')",
            (day(15),),
        )
    assert rescore(book).delta_7 is None


@pytest.fixture
def synth(book):
    build_synth(book, 150, seed=11)
    return book


def test_full_rescore_agrees_with_single_account_rescores(synth):
    summary = rescore_all(synth)
    assert summary.accounts == 150 and sum(summary.bands.values()) == 150
    stored = {
        r[0]: (r[1], r[2])
        for r in synth.query("SELECT id, health_score, health_band FROM scored_accounts")
    }
    explain = {s["account_id"]: s["explain"] for s in snapshots(synth)}
    for account_id in list(stored)[::5]:
        one = rescore(synth, account_id)
        assert (one.score, one.band) == stored[account_id]
        points = {m.key: m.points for m in one.measures}
        assert json.loads(explain[account_id])["points"] == points
    # each single rescore's row replaced its account's snapshot of the day: still one each
    assert len(snapshots(synth)) == 150
    assert json.loads(synth.scalar("SELECT value FROM meta WHERE key = 'last_full_rescore'"))


def test_full_rescore_twice_the_same_day_replaces_history(synth):
    rescore_all(synth)
    rescore_all(synth)
    snaps = snapshots(synth)
    assert len(snaps) == 150 and {s["date"] for s in snaps} == {TODAY.isoformat()}


def test_history_only_backfill_is_point_in_time_and_writes_nothing_else(synth):
    past = TODAY - timedelta(days=60)
    summary = rescore_all(synth, today=past, history_only=True)
    assert synth.scalar("SELECT count(*) FROM alerts") == 0
    assert synth.scalar("SELECT count(*) FROM scored_accounts WHERE scored_at IS NOT NULL") == 0
    assert {s["date"] for s in snapshots(synth)} == {past.isoformat()}
    started_later = synth.scalar(
        "SELECT count(*) FROM scored_accounts WHERE start_date > ?", (past.isoformat(),)
    )
    assert summary.accounts == 150 - started_later
    facts = measures_frame(synth.conn, past)
    expected = score_matrix(
        facts[[m.key for m in default_config().measures]].to_numpy(float), default_config()
    )
    by_id = dict(zip(facts["account_id"], np.round(expected.score, 1), strict=True))
    assert len(snapshots(synth)) == summary.accounts
    for account_id, score in ((s["account_id"], s["score"]) for s in snapshots(synth)):
        assert (score is None and math.isnan(by_id[account_id])) or score == pytest.approx(
            by_id[account_id]
        )


def test_full_rescore_deltas_use_the_backfilled_history(synth):
    rescore_all(synth, today=TODAY - timedelta(days=7), history_only=True)
    rescore_all(synth)
    week_ago = {
        s["account_id"]: s["score"]
        for s in snapshots(synth)
        if s["date"] == (TODAY - timedelta(days=7)).isoformat() and s["score"] is not None
    }
    rows = [
        (r[1] - week_ago[r[0]], r[2])
        for r in synth.query("SELECT id, health_score, health_delta_7 FROM scored_accounts")
        if r[1] is not None and r[0] in week_ago
    ]
    assert rows and all(r[1] == pytest.approx(r[0], abs=0.01) for r in rows)


def test_top_decile_and_expansion_flags(synth):
    rescore_all(synth)
    scored = synth.scalar(
        "SELECT count(*) FROM scored_accounts WHERE status != 'churned' AND health_score IS NOT NULL"
    )
    flagged = synth.query("SELECT health_score FROM scored_accounts WHERE risk_top10 = 1")
    assert math.ceil(scored * 0.1) <= len(flagged) <= math.ceil(scored * 0.1) + 3
    cut = json.loads(synth.scalar("SELECT value FROM meta WHERE key = 'risk_top10_threshold'"))
    assert cut["by"] == "score"
    assert all(r[0] <= cut["value"] for r in flagged)
    worst = synth.scalar(
        "SELECT id FROM scored_accounts WHERE risk_top10 = 1 ORDER BY health_score LIMIT 1"
    )
    assert rescore(synth, worst).risk_top10 is True
    for row in synth.query(
        "SELECT id, health_band FROM scored_accounts WHERE expansion_candidate = 1"
    ):
        assert row[1] == "green"


class FakeModel:
    """A stand-in churn model: probability from the account id's last digit."""

    metadata = {"custom": {}}

    def predict(self, frame):
        return np.array([int(i[-1]) / 10 for i in frame.index])


def test_churn_model_probabilities_and_segments(synth, monkeypatch):
    monkeypatch.setattr(engine, "_churn_model", lambda conn: (FakeModel(), "model"))
    monkeypatch.setattr(
        "csm_tui.scoring.churn_features.feature_frame",
        lambda conn, account_ids=None, custom=None: __import__("pandas").DataFrame(
            index=list(account_ids)
        ),
    )
    summary = rescore_all(synth)
    assert summary.churn_model == "model"
    row = synth.query("SELECT churn_prob, risk_segment FROM scored_accounts WHERE id = 'A0000017'")[
        0
    ]
    assert tuple(row) == (pytest.approx(0.7), "high")
    assert rescore(synth, "A0000013").risk_segment == "medium"
    assert rescore(synth, "A0000011").churn_prob == pytest.approx(0.1)


def test_model_that_refuses_falls_back_to_the_band(synth, monkeypatch):
    from csm_tui.scoring.churn import ModelMismatch

    class Refusing(FakeModel):
        def predict(self, frame):
            raise ModelMismatch("features changed; run `csm model train`")

    monkeypatch.setattr(engine, "_churn_model", lambda conn: (Refusing(), "model"))
    summary = rescore_all(synth)
    assert "features changed" in summary.churn_model
    rows = synth.query("SELECT health_band, risk_segment, churn_prob FROM scored_accounts")
    for band, risk, prob in rows:
        assert prob is None and risk == engine.BAND_RISK.get(band)


def test_segment_averages_of_active_accounts_with_the_overall_one_as_fallback():
    segment = np.array(["SMB", "SMB", "SMB", "Ent", "Ent", None, "Mid"], dtype=object)
    adoption = np.array([10.0, 20.0, np.nan, 50.0, 90.0, 40.0, 70.0])
    active = np.array([True, True, True, True, False, True, False])
    averages, average = engine.segment_averages(segment, adoption, active)
    # Ent's inactive account and Mid's only (inactive) one do not count
    assert averages == {"SMB": 15.0, "Ent": 50.0, "": 40.0, "*": 30.0}
    np.testing.assert_array_equal(average, [15, 15, 15, 50, 50, 40, 30])
    empty, none = engine.segment_averages(segment, np.full(7, np.nan), active)
    assert empty == {"*": None} and np.isnan(none).all()


def test_full_rescore_compares_bands_with_each_accounts_own_week_old_snapshot(synth):
    """Band-worsened alerts come from each account's own snapshot of a week ago, matched by
    id (history is in id order, the book in rowid order), never a neighbour's."""
    week = TODAY - timedelta(days=7)
    rescore_all(synth, today=week, history_only=True)
    rank = {"red": 0, "yellow": 1, "green": 2}
    then = {s["account_id"]: s["band"] for s in snapshots(synth) if s["date"] == week.isoformat()}
    rescore_all(synth)
    now = synth.query("SELECT id, health_band, status FROM scored_accounts")
    expected = {
        r["id"]
        for r in now
        if r["status"] != "churned"
        and r["health_band"] in rank
        and rank[r["health_band"]] < rank.get(then.get(r["id"]), -1)
    }
    fired = {
        r[0] for r in synth.query("SELECT account_id FROM alerts WHERE rule = 'band_worsened'")
    }
    assert expected and fired == expected
