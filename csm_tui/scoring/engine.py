"""The scoring engine: the one place that writes health scores, history and alerts.

- `rescore_account(conn, account_id)`: one account, inside the caller's write transaction
  (an edit and its rescore commit together). Indexed per-account queries.
- `rescore_all(book)`: the whole book in one non-durable transaction, vectorised (SQL
  aggregates + numpy/pandas); after imports, `csm demo`, `csm score`, and daily.
  `history_only=True` with a past `today` writes only that date's `health` rows (backfill).

Both write the accounts' score columns, today's `health` row (re-scoring the same day replaces
it; its explain JSON keeps per-measure points so movers can be computed later)
and alerts. Risk: the churn model's probability when a model was trained for this book (and
still fits its features), else the band (red → high, yellow → medium, green → low).
"""

from __future__ import annotations

import gc
import hashlib
import json
import math
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from csm_tui import clock
from csm_tui.errors import NotFound
from csm_tui.progress import ProgressFn
from csm_tui.scoring.alerts import (
    apply_alerts,
    apply_book_changes,
    changes_from_states,
    evaluate,
    pair_states,
    positions,
)
from csm_tui.scoring.book_frame import (
    HEALTH_TRIGGER,
    SCORES_TRIGGER,
    encode_columns,
    read_columns,
    scores_written,
    write_columns,
)
from csm_tui.scoring.bulk_update import alongside, update_statement
from csm_tui.scoring.config import ScoringConfig, load_config
from csm_tui.scoring.health import ScoreArrays, explain_row, score_matrix
from csm_tui.scoring.measures import (
    CURRENT_TEXT,
    FACT_KEYS,
    as_columns,
    as_objects,
    facts_frame,
    key_order,
    measures_for_account,
    measures_frame,
)
from csm_tui.scoring.read_ahead import DELTA_TOLERANCE, ReadAhead
from csm_tui.scoring.results import AccountScore, AlertRecord, MeasureExplain, RescoreSummary
from csm_tui.storage import history
from csm_tui.storage.schema import lifted_trigger

__all__ = [
    "AccountScore",
    "AlertRecord",
    "MeasureExplain",
    "RescoreSummary",
    "rescore_account",
    "rescore_all",
]

#: The full rescore's alerts: those of accounts that have not churned.
BOOK_SCOPE = (
    "EXISTS (SELECT 1 FROM accounts c WHERE c.id = alerts.account_id AND c.status != 'churned')"
)
BAND_RISK = {"red": "high", "yellow": "medium", "green": "low"}
TOP_MOVERS = 3
_ACCOUNT_UPDATE = """
UPDATE accounts SET health_band = ?, churn_prob = ?, risk_segment = ?, risk_top10 = ?,
    expansion_candidate = ?, last_touch_at = ? WHERE id = ? RETURNING rowid
"""
_HEALTH_UPDATE = """
UPDATE account_health SET health_score = ?, health_delta_7 = ?, health_delta_30 = ?,
    scored_at = ? WHERE account_rowid = ?
"""


# -- config and model caches (per process) ------------------------------------------------------
_config_cache: dict[str, Any] = {}
_model_cache: dict[Path, tuple[float, Any, str]] = {}


def current_config() -> ScoringConfig:
    """The effective config, re-read only when `scoring.toml` changes."""
    from csm_tui.paths import scoring_config_path

    path = scoring_config_path()
    try:
        stamp = (str(path), path.stat().st_mtime_ns)
    except OSError:
        stamp = (str(path), None)
    if _config_cache.get("stamp") != stamp:
        _config_cache["config"] = load_config(path)
        _config_cache["stamp"] = stamp
    return _config_cache["config"]


def _book_path(conn: sqlite3.Connection) -> Path | None:
    for row in conn.execute("PRAGMA database_list"):
        if row[1] == "main" and row[2]:
            return Path(row[2])
    return None


def _churn_model(conn: sqlite3.Connection) -> tuple[Any, str]:
    """(model or None, status) for this book; loaded once per process and model file."""
    from csm_tui.paths import model_path_for

    db = _book_path(conn)
    path = model_path_for(db) if db else None
    if path is None or not path.exists():
        return None, "none"
    mtime = path.stat().st_mtime
    cached = _model_cache.get(path)
    if cached and cached[0] == mtime:
        return cached[1], cached[2]
    try:
        from csm_tui.scoring.churn import load_model

        model, status = load_model(path), "model"
    except Exception as exc:  # a stale or unreadable model: fall back to the band
        model, status = None, getattr(exc, "message", type(exc).__name__)
    _model_cache[path] = (mtime, model, status)
    return model, status


def _churn_probs(conn: sqlite3.Connection, ids: list[str]) -> tuple[np.ndarray | None, str]:
    """Churn probabilities for `ids` (None when there is no usable model) and the status."""
    model, status = _churn_model(conn)
    if model is None or not ids:
        return None, status
    try:
        from csm_tui.scoring.churn_features import feature_frame

        frame = feature_frame(conn, account_ids=ids, custom=model.metadata.get("custom"))
        return np.asarray(model.predict(frame), dtype=float), "model"
    except Exception as exc:  # features changed since training: fall back, say why
        return None, getattr(exc, "message", type(exc).__name__)


def _risk(probs: np.ndarray | None, bands: np.ndarray, cfg: ScoringConfig) -> np.ndarray:
    if probs is None:
        # masked assignments: np.select over object arrays took ~0.2 s at 1M accounts
        bands = np.asarray(bands, dtype=object)
        risk = np.full(len(bands), None, dtype=object)
        for band, segment in BAND_RISK.items():
            risk[bands == band] = segment
        return risk
    seg = np.where(
        probs >= cfg.risk.high, "high", np.where(probs >= cfg.risk.medium, "medium", "low")
    )
    return np.where(np.isnan(probs), None, seg).astype(object)


# -- one account ----------------------------------------------------------------------------------
def rescore_account(
    conn: sqlite3.Connection,
    account_id: str,
    *,
    config: ScoringConfig | None = None,
    today: date | None = None,
) -> AccountScore:
    """Rescore one account inside the caller's write transaction; write and return its score."""
    cfg = config or current_config()
    as_of = today or clock.today()
    facts = measures_for_account(conn, account_id, as_of)
    if facts is None:
        raise NotFound(f"no account with id {account_id!r} in this book")
    raw = np.array([[_float(facts[m.key]) for m in cfg.measures]], dtype=float)
    arrays = score_matrix(raw, cfg)
    score = _opt(arrays.score[0])
    band = str(arrays.band[0])
    points = _points_dict(arrays, cfg, 0)
    result = AccountScore(
        account_id=account_id,
        score=score,
        band=band,
        parts={c.key: _opt(arrays.parts[0, i]) for i, c in enumerate(cfg.categories)},
        measures=explain_row(raw, arrays, cfg),
        coverage=round(float(arrays.coverage[0]), 3),
        last_touch_at=facts["last_touch_at"],
    )
    prev = {days: _snapshot_near(conn, account_id, as_of, days) for days in DELTA_TOLERANCE}
    _deltas(result, prev, points, cfg)
    probs, _ = _churn_probs(conn, [account_id])
    result.churn_prob = None if probs is None else round(float(probs[0]), 4)
    result.risk_segment = _risk(probs, arrays.band[:1], cfg)[0]
    result.risk_top10 = _top10_single(conn, result)
    result.expansion_candidate = _expansion_single(conn, facts, band, cfg)
    if facts["status"] != "churned":
        _alerts_single(conn, result, facts, prev[7], cfg, as_of)
    _write_single(conn, result, arrays, cfg, as_of)
    return result


def _float(value: Any) -> float:
    try:
        return float(value) if value is not None else math.nan
    except (TypeError, ValueError):
        return math.nan


def _opt(value: Any, digits: int = 1) -> float | None:
    return None if value is None or np.isnan(value) else float(np.round(value, digits))


def _points_dict(arrays: ScoreArrays, cfg: ScoringConfig, row: int) -> dict[str, float]:
    return {
        m.key: round(float(arrays.points[row, j]), 2)
        for j, m in enumerate(cfg.measures)
        if not np.isnan(arrays.points[row, j])
    }


def _snapshot_near(
    conn: sqlite3.Connection, account_id: str, as_of: date, days: int
) -> dict | None:
    """The account's health snapshot nearest to `days` before as_of (within the tolerance)."""
    target = as_of - timedelta(days=days)
    tol = DELTA_TOLERANCE[days]
    last = min(target + timedelta(days=tol), as_of - timedelta(days=1))
    rows = history.account_snapshots(
        conn, account_id, (target - timedelta(days=tol)).isoformat(), last.isoformat()
    )
    if not rows:
        return None
    return min(rows, key=lambda r: (abs((date.fromisoformat(r["date"]) - target).days), r["date"]))


def _deltas(result: AccountScore, prev: dict, points: dict[str, float], cfg: ScoringConfig) -> None:
    """Score change since 7 / 30 days ago and the measures that moved it most."""
    labels = {m.key: m.label for m in cfg.measures}
    for days, snap in prev.items():
        if snap is None or snap["score"] is None or result.score is None:
            continue
        setattr(result, f"delta_{days}", round(result.score - snap["score"], 1))
        if days == 7 or not result.movers:
            result.movers = _movers(snap.get("explain"), points, labels)


def _movers(
    explain: str | None, points: dict[str, float], labels: dict[str, str]
) -> list[tuple[str, float]]:
    """The measures whose points changed most (largest absolute change first)."""
    try:
        before = json.loads(explain or "{}").get("points") or {}
    except (ValueError, AttributeError):
        return []
    change = {
        k: points.get(k, 0.0) - float(before.get(k) or 0.0) for k in set(points) | set(before)
    }
    ranked = sorted(change.items(), key=lambda kv: (-abs(kv[1]), kv[0]))
    return [(labels.get(k, k), round(v, 1)) for k, v in ranked[:TOP_MOVERS] if abs(v) >= 0.05]


def _meta(conn: sqlite3.Connection, key: str) -> Any:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    try:
        return json.loads(row[0]) if row and row[0] else None
    except ValueError:
        return None


def _top10_single(conn: sqlite3.Connection, result: AccountScore) -> bool:
    """Compare with the threshold the last full rescore stored (top 10 % of the active book)."""
    cut = _meta(conn, "risk_top10_threshold")
    if not cut:
        return False
    if cut.get("by") == "churn":
        return result.churn_prob is not None and result.churn_prob >= cut["value"]
    return result.score is not None and result.score <= cut["value"]


def _expansion_single(conn: sqlite3.Connection, facts: dict, band: str, cfg: ScoringConfig) -> bool:
    averages = _meta(conn, "adoption_by_segment") or {}
    average = averages.get(facts["segment"] or "", averages.get("*"))
    adoption = facts["feature_adoption"]
    return bool(
        facts["status"] != "churned"
        and band == "green"
        and average is not None
        and adoption is not None
        and adoption > average
        and (facts["nps"] or 0) >= cfg.rule("expansion_signal").params["min_nps"]
        and facts["sponsor_present"] == 1
    )


def _alerts_single(
    conn: sqlite3.Connection,
    result: AccountScore,
    facts: dict,
    prev7: dict | None,
    cfg: ScoringConfig,
    as_of: date,
) -> None:
    values = dict(facts) | {
        "account_id": result.account_id, "score": result.score, "band": result.band,
        "prev_score": prev7["score"] if prev7 else None, "prev_band": prev7["band"] if prev7 else None,
    }  # fmt: skip
    fired = evaluate(as_columns(values), cfg, as_of)
    opened, cleared, _ = apply_alerts(
        conn,
        fired,
        "account_id = :acc",
        {"acc": result.account_id},
        clock.now_iso(),
        as_of.isoformat(),
    )
    result.alerts_opened, result.alerts_cleared = opened, cleared


def _explain_json(arrays: ScoreArrays, cfg: ScoringConfig, row: int) -> str:
    """The same JSON the full rescore writes for one account: {"points": {measure: …}}."""
    return _explain_lines(arrays.points[row : row + 1], cfg)[0]


def _write_single(
    conn: sqlite3.Connection,
    r: AccountScore,
    arrays: ScoreArrays,
    cfg: ScoringConfig,
    as_of: date,
) -> None:
    found = conn.execute(_ACCOUNT_UPDATE, (
        r.band, r.churn_prob, r.risk_segment, int(r.risk_top10), int(r.expansion_candidate),
        r.last_touch_at, r.account_id,
    )).fetchall()  # fmt: skip
    for (rowid,) in found:
        conn.execute(_HEALTH_UPDATE, (r.score, r.delta_7, r.delta_30, clock.now_iso(), rowid))
    parts = [r.parts.get(c) for c in ("usage", "engagement", "outcomes", "sentiment")]
    conn.execute(
        history.ROW_REPLACE,
        (
            r.account_id,
            as_of.isoformat(),
            r.score,
            r.band,
            *parts,
            r.churn_prob,
            _explain_json(arrays, cfg, 0),
        ),
    )


# -- the whole book ---------------------------------------------------------------------------------
def rescore_all(
    book,
    *,
    config: ScoringConfig | None = None,
    today: date | None = None,
    progress: ProgressFn | None = None,
    history_only: bool = False,
) -> RescoreSummary:
    """Rescore every account in one non-durable transaction (vectorised); see the module doc.
    Its WAL is left for `book.checkpoint()` (or closing the book) to copy back."""
    started = time.monotonic()
    cfg = config or current_config()
    as_of = today or clock.today()
    step = progress or (lambda done, total=0: None)
    own_transaction = not book.conn.in_transaction
    # every row it writes references an account read in this (locked) transaction
    with (
        _no_cyclic_gc(),
        book.write(durable=False, check_references=False, checkpoint=False) as conn,
    ):
        step(0, 6)
        columns: dict[str, np.ndarray] = {}
        frame_touched: set[str] = set()
        past = None
        if history_only:
            facts = measures_frame(conn, as_of)
            start = facts["start_date"].to_numpy(dtype=object)
            facts = facts[(start == "") | (start <= as_of.isoformat())]
        else:
            columns, reused, frame_touched = read_columns(conn, as_of)
            past = ReadAhead.start(book.path, as_of, own_transaction=own_transaction)
            facts = facts_frame(columns, as_of, reused)
        step(1, 6)
        raw = facts[[m.key for m in cfg.measures]].to_numpy(dtype=float)
        arrays = score_matrix(raw, cfg, explain=False)
        scores = _score_frame(facts, arrays, cfg)
        step(2, 6)
        summary = RescoreSummary(
            as_of.isoformat(), len(scores), _band_counts(scores), 0, 0, history_only
        )
        if history_only:
            _write_health(conn, scores, arrays, cfg, as_of)
        else:
            frame = (columns, frame_touched)
            _full_rescore(conn, facts, scores, arrays, cfg, past, summary, step, frame)
        step(6, 6)
    summary.seconds = round(time.monotonic() - started, 2)
    return summary


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: reading millions of rows creates millions of
    tracked tuples, and its repeated passes over them cost ~10 % of a full rescore. None of
    these objects form cycles; plain reference counting frees them. Restored on exit."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _score_frame(facts: pd.DataFrame, arrays: ScoreArrays, cfg: ScoringConfig) -> pd.DataFrame:
    out = pd.DataFrame(as_objects({
        "account_id": facts["account_id"].to_numpy(),
        "status": facts["status"].to_numpy(),
        "score": np.round(arrays.score, 1),
        "band": np.asarray(arrays.band, dtype=object),
    }), copy=False)  # fmt: skip
    for i, c in enumerate(cfg.categories):
        out[c.key] = np.round(arrays.parts[:, i], 1)
    out["churn_prob"] = np.nan
    return out


def _set_objects(frame: pd.DataFrame, name: str, values: np.ndarray) -> None:
    """A text column kept as objects (see `measures.as_objects`)."""
    frame[name] = pd.Series(values, index=frame.index, dtype=object, copy=False)


def _band_counts(scores: pd.DataFrame) -> dict[str, int]:
    counts = scores["band"].value_counts()
    return {b: int(counts.get(b, 0)) for b in ("green", "yellow", "red", "insufficient")}


def _full_rescore(conn, facts, scores, arrays, cfg, past: ReadAhead, summary, step, frame) -> None:
    """Deltas, churn, risk, expansion, alerts and every write of a full rescore. `frame`: the
    book's columns (`book_frame`) and the names of those to store."""
    as_of = past.as_of
    stamp = _rescore_stamp(conn, cfg, as_of)
    # Same day, same config and model: an account whose inputs did not change since (its
    # cached facts were reused) already has today's snapshot; everything else (score columns,
    # churn, alerts) is recomputed for all, so edits made behind csm are corrected.
    redo = ~facts["reused"].to_numpy() if _meta(conn, "full_rescore_stamp") == stamp else None
    probs, summary.churn_model = _churn_probs(conn, scores["account_id"].tolist())
    if probs is not None:
        scores["churn_prob"] = np.round(probs, 4)
    _set_objects(scores, "risk_segment", _risk(probs, scores["band"].to_numpy(), cfg))
    active = (scores["status"] != "churned").to_numpy()
    scores["risk_top10"] = _top10_all(conn, scores, active, probs is not None, cfg)
    scores["expansion"] = _expansion_all(conn, facts, scores, active, cfg)
    touch = facts["last_touch_at"].to_numpy(dtype=object)
    _set_objects(scores, "last_touch_at", np.where(touch == "", None, touch))
    # the deltas last: the read-ahead may still be reading their snapshots
    # (one index of the book's ids for both: if it must hash, it does so once)
    _deltas_all(conn, scores, past, pd.Index(scores["account_id"].to_numpy()))
    step(3, 6)
    columns = {key: facts[key].to_numpy() for key in ("account_id", "rowid", *FACT_KEYS)}
    columns |= {
        "score": scores["score"].to_numpy(dtype=float), "band": scores["band"].to_numpy(),
        "prev_score": scores["prev_score_7"].to_numpy(dtype=float),
        "prev_band": scores["prev_band_7"].to_numpy(),
    }  # fmt: skip
    states = pair_states(conn, columns, past.alert_pairs(conn))
    updates = _score_updates(scores, facts)
    health = _health_write(scores, arrays, cfg, as_of, redo)
    book, names = frame
    names = names | scores_written(book, _written(scores))

    def alongside_writes() -> tuple:
        # no database here: this runs while the score updates below hold none of the GIL
        changes = changes_from_states(columns, cfg, as_of, states)
        return changes, health(), encode_columns(book, names)

    # the frame keeps what this rescore writes: its own writes do not mark accounts changed
    with (
        lifted_trigger(conn, SCORES_TRIGGER),
        lifted_trigger(conn, HEALTH_TRIGGER),
        alongside(alongside_writes) as prepared,
    ):
        for sql, params in updates:
            conn.execute(sql, params)
    (new, absent, refired), write_health, encoded = prepared.result()
    step(4, 6)
    # BOOK_SCOPE: a key lookup per candidate alert (`account_id IN (SELECT …)` would list 1M ids)
    opened, _, reopened = apply_book_changes(
        conn, new, absent, refired, BOOK_SCOPE, clock.now_iso(), as_of.isoformat()
    )
    summary.alerts_opened, summary.alerts_reopened = len(opened), reopened
    write_health(conn)
    write_columns(conn, encoded)
    step(5, 6)
    conn.executemany(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
        [
            ("last_full_rescore", json.dumps(clock.now_iso())),
            ("full_rescore_stamp", json.dumps(stamp)),
        ],
    )


def _written(scores: pd.DataFrame) -> dict[str, np.ndarray]:
    """The score columns as `_score_updates` left them, typed as they read back."""
    return {
        col: scores[key].to_numpy(dtype=object if f"current_{col}" in CURRENT_TEXT else float)
        for col, key in _ALL_SCORES.items()
    }


def _rescore_stamp(conn: sqlite3.Connection, cfg: ScoringConfig, as_of: date) -> dict:
    """What a full rescore's results depend on besides the book's data: the day, the scoring
    config and the churn model file."""
    from csm_tui.paths import model_path_for

    db = _book_path(conn)
    path = model_path_for(db) if db else None
    try:
        model = f"{path}:{path.stat().st_mtime_ns}" if path else "none"
    except OSError:
        model = "none"
    config = hashlib.sha256(repr(cfg).encode()).hexdigest()[:16]
    return {"date": as_of.isoformat(), "config": config, "model": model}


def _deltas_all(
    conn: sqlite3.Connection, scores: pd.DataFrame, past: ReadAhead, index: pd.Index
) -> None:
    """Score change since 7 / 30 days ago (and that snapshot's score and band, for alerts),
    for every account: the stored columns are corrected even where nothing changed.
    `index`: the accounts' ids (unique, in `scores` order)."""
    for days in DELTA_TOLERANCE:
        prev = past.snapshot(conn, days)
        at = positions(index, prev["account_id"].to_numpy(dtype=object))
        found = at >= 0  # a snapshot may hold accounts deleted since
        score = np.full(len(scores), np.nan)
        band = np.full(len(scores), "", dtype=object)
        score[at[found]] = prev["score"].to_numpy(dtype=float)[found]
        band[at[found]] = prev["band"].fillna("").to_numpy(dtype=object)[found]
        scores[f"prev_score_{days}"] = score
        _set_objects(scores, f"prev_band_{days}", band)
        scores[f"delta_{days}"] = np.round(scores["score"] - scores[f"prev_score_{days}"], 1)


def _top10_all(
    conn, scores: pd.DataFrame, active: np.ndarray, by_churn: bool, cfg: ScoringConfig
) -> np.ndarray:
    """Flag the top share of the active book by churn probability (else by lowest score)."""
    values = scores["churn_prob" if by_churn else "score"].to_numpy(dtype=float)
    pool = values[active & ~np.isnan(values)]
    flags = np.zeros(len(scores), dtype=int)
    if pool.size == 0:
        conn.execute("DELETE FROM meta WHERE key = 'risk_top10_threshold'")
        return flags
    k = max(1, math.ceil(cfg.risk.top_share * pool.size))
    if by_churn:
        cut = float(np.sort(pool)[::-1][k - 1])
        flags[active & (values >= cut)] = 1
    else:
        cut = float(np.sort(pool)[k - 1])
        flags[active & (values <= cut)] = 1
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('risk_top10_threshold', ?)",
        (json.dumps({"by": "churn" if by_churn else "score", "value": cut}),),
    )
    return flags


def _expansion_all(
    conn, facts: pd.DataFrame, scores: pd.DataFrame, active: np.ndarray, cfg: ScoringConfig
) -> np.ndarray:
    """Green, adoption above its segment's average, NPS ≥ the rule's minimum, sponsor in place."""
    adoption = facts["feature_adoption"].to_numpy(dtype=float)
    averages, average = segment_averages(facts["segment"].to_numpy(dtype=object), adoption, active)
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('adoption_by_segment', ?)",
        (json.dumps(averages),),
    )
    min_nps = cfg.rule("expansion_signal").params["min_nps"]
    hit = (scores["band"].to_numpy() == "green") & (adoption > average) & active
    hit &= facts["nps"].to_numpy(dtype=float) >= min_nps
    hit &= facts["sponsor_present"].to_numpy(dtype=float) == 1
    return hit.astype(int)


def segment_averages(
    segment: np.ndarray, adoption: np.ndarray, active: np.ndarray
) -> tuple[dict[str, float | None], np.ndarray]:
    """({segment: mean adoption of its active accounts, "*": of all}, each account's own
    segment's mean, else the overall one), rounded to 2 decimals. By segment codes and
    bincount: a pandas groupby on a million segment names took ~0.5 s."""
    codes, names = pd.factorize(pd.Series(segment).fillna("").astype(str).to_numpy())
    pool = active & ~np.isnan(adoption)
    counts = np.bincount(codes[pool], minlength=len(names))
    sums = np.bincount(codes[pool], weights=adoption[pool], minlength=len(names))
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.round(sums / counts, 2)
    overall = round(float(adoption[pool].mean()), 2) if pool.any() else None
    averages: dict[str, float | None] = {
        str(name): float(mean) for name, mean, n in zip(names, means, counts, strict=True) if n
    }
    averages["*"] = overall
    fallback = np.nan if overall is None else overall
    average = np.where(counts[codes] > 0, means[codes], fallback)
    return averages, average


#: Score columns by table, and by whether an index covers them: an UPDATE that sets an indexed
#: column rewrites that index entry even when the value is the same, so the full rescore writes
#: only the accounts whose scores changed, and sets indexed columns only where one of them
#: changed. The health score and its changes (most of a day's writes) are in the narrow
#: `account_health` table (schema v8); the rest, which seldom move, on `accounts`.
_INDEXED_SCORES = {
    "health_band": "band",
    "churn_prob": "churn_prob",
    "last_touch_at": "last_touch_at",
}
_PLAIN_SCORES = {
    "risk_segment": "risk_segment", "risk_top10": "risk_top10", "expansion_candidate": "expansion",
}  # fmt: skip
_INDEXED_HEALTH = {"health_score": "score"}
_PLAIN_HEALTH = {"health_delta_7": "delta_7", "health_delta_30": "delta_30"}
_ALL_SCORES = _INDEXED_SCORES | _PLAIN_SCORES | _INDEXED_HEALTH | _PLAIN_HEALTH


def _changed(new: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Where a new score value differs from the stored one (NaN and None both mean NULL)."""
    if current.dtype == object or new.dtype == object:
        new, current = new.astype(object, copy=False), current.astype(object, copy=False)
        differ = np.asarray(new != current, dtype=bool)
        # only where they differ can both be missing (None vs NaN): checking those alone
        # spares two isna passes over a million values per column
        at = np.flatnonzero(differ)
        differ[at[pd.isna(new[at]) & pd.isna(current[at])]] = False
        return differ
    new = new.astype(float)
    return ~((new == current) | (np.isnan(new) & np.isnan(current)))


def _score_updates(s: pd.DataFrame, facts: pd.DataFrame) -> list[tuple[str, tuple]]:
    """The statements that update the score columns of the accounts whose scores changed
    (each of them also gets `scored_at`), one per table and set of indexed columns changed."""
    changed = {
        col: _changed(s[key].to_numpy(), facts[f"current_{col}"].to_numpy())
        for col, key in _ALL_SCORES.items()
    }
    on_accounts = np.logical_or.reduce([changed[c] for c in _INDEXED_SCORES | _PLAIN_SCORES])
    on_health = np.logical_or.reduce([changed[c] for c in _INDEXED_HEALTH | _PLAIN_HEALTH])
    rowids = facts["rowid"].to_numpy().astype(np.int64)
    indexed, plain = (_INDEXED_SCORES, _PLAIN_SCORES)
    out = _row_updates("accounts", "rowid", s, changed, rowids, on_accounts, indexed, plain)
    indexed, plain = (_INDEXED_HEALTH, _PLAIN_HEALTH)
    stamp = {"scored_at": clock.now_iso()}
    rows = on_accounts | on_health
    out += _row_updates(
        "account_health", "account_rowid", s, changed, rowids, rows, indexed, plain, stamp
    )
    return out


def _row_updates(
    table: str,
    key: str,
    s: pd.DataFrame,
    changed: dict[str, np.ndarray],
    rowids: np.ndarray,
    rows: np.ndarray,
    indexed: dict[str, str],
    plain: dict[str, str],
    fixed: dict[str, str] | None = None,
) -> list[tuple[str, tuple]]:
    """UPDATEs of `rows` of `table`: grouped by which indexed columns changed (`changed`: per
    column, where), each group's UPDATE sets only those (plus the unindexed and `fixed` ones).
    A day's new score then rewrites one index entry, not three. Each group is written by
    rowid, in rowid order (pages in order)."""
    bits = np.zeros(len(s), dtype=np.int64)
    for i, col in enumerate(indexed):
        bits |= changed[col].astype(np.int64) << i
    out = []
    for pattern in np.unique(bits[rows]).tolist():
        order = np.flatnonzero(rows & (bits == pattern))
        order = order[np.argsort(rowids[order], kind="stable")]
        columns = {col: key_ for i, (col, key_) in enumerate(indexed.items()) if pattern >> i & 1}
        columns |= plain
        values = {col: s[name].to_numpy()[order] for col, name in columns.items()}
        out.append(update_statement(table, key, rowids[order], values, fixed))
    return out


#: A same-day rescore rewrites the day's blocks when more accounts than this share changed;
#: fewer are written as rows over the blocks (as an edit's rescore is).
REWRITE_DAY_SHARE = 0.05


def _write_health(
    conn,
    s: pd.DataFrame,
    arrays: ScoreArrays,
    cfg: ScoringConfig,
    as_of: date,
    only: np.ndarray | None = None,
) -> None:
    """Today's snapshot of every account (or of the `only` ones: the rest already have it)."""
    _health_write(s, arrays, cfg, as_of, only)()(conn)


def _health_write(
    s: pd.DataFrame,
    arrays: ScoreArrays,
    cfg: ScoringConfig,
    as_of: date,
    only: np.ndarray | None = None,
) -> Callable[[], Callable[[sqlite3.Connection], None]]:
    """`_write_health` in two steps that need no database until the last: the returned
    function prepares today's snapshot (it may run on a helper thread) and returns its
    writer. What it reads of `s` is taken now."""
    day = as_of.isoformat()
    measures = [m.key for m in cfg.measures]
    if only is not None and only.sum() <= REWRITE_DAY_SHARE * len(s):
        few, points = s[only], arrays.points[only]
        return lambda: partial(_write_health_rows, s=few, points=points, cfg=cfg, day=day)
    ids = s["account_id"].to_numpy()
    bands = s["band"].to_numpy()
    value_columns = [s[col].to_numpy(dtype=float) for col in history.VALUE_COLUMNS]
    points = arrays.points

    def prepare() -> Callable[[sqlite3.Connection], None]:
        values = np.column_stack(value_columns)
        order = key_order(ids)
        ordered = (ids, bands, values, points) if order is None else (
            ids[order], bands[order], values[order], points[order]
        )  # fmt: skip
        # rounded in place: nothing reads the points after today's history (a 1M x 14 copy
        # is 112 MB of fresh memory, ~0.25 s here)
        np.round(ordered[3], history.POINT_DIGITS, out=ordered[3])
        encoded = history.encode_day(ordered[0].tolist(), *ordered[1:], measures)
        return partial(history.write_encoded_day, day=day, encoded=encoded)

    return prepare


def _write_health_rows(conn, *, s: pd.DataFrame, points: np.ndarray, cfg, day: str) -> None:
    """Snapshots of a few accounts as `health` rows (they override the day's blocks)."""
    rows = zip(
        s["account_id"].tolist(), [day] * len(s), s["score"].tolist(), s["band"].tolist(),
        s["usage"].tolist(), s["engagement"].tolist(), s["outcomes"].tolist(),
        s["sentiment"].tolist(), s["churn_prob"].tolist(), _explain_lines(points, cfg),
        strict=True,
    )  # fmt: skip
    conn.executemany(history.ROW_REPLACE, rows)


def _explain_lines(points: np.ndarray, cfg: ScoringConfig) -> list[str]:
    """`{"points": {measure: points, …}}` per row (null without data), built by pandas' C JSON
    writer: the history keeps per-measure points so movers can be computed later."""
    if len(points) == 0:
        return []
    frame = pd.DataFrame(np.round(points, 2), columns=[m.key for m in cfg.measures])
    body = frame.to_json(orient="records", double_precision=2)[1:-1]  # '{…},{…}': no '[', ']'
    # wrap every record in {"points": …} with one replace in C (keys and numbers hold no braces)
    return ('{"points":' + body.replace("},{", '}}\n{"points":{') + "}").split("\n")
