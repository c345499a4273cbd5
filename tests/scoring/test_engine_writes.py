"""The full rescore writes only the accounts whose scores changed, and the result is the same as
scoring every account from scratch."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csm_tui.scoring.engine import rescore_all
from csm_tui.scoring.measures import CURRENT_COLUMNS
from csm_tui.storage.schema import HEALTH_COLUMNS
from tests.scoring.conftest import TODAY
from tests.scoring.synth import build as build_synth

SCORES = ", ".join(CURRENT_COLUMNS)
_BLANK = (
    """UPDATE accounts SET health_band = NULL, churn_prob = NULL, risk_segment = NULL,
    risk_top10 = 0, expansion_candidate = 0, last_touch_at = NULL""",
    """UPDATE account_health SET health_score = NULL, health_delta_7 = NULL,
    health_delta_30 = NULL, scored_at = NULL""",
)
#: Each UPDATE of an `accounts` row, logged (a temp trigger: this connection's writes only).
_LOG_ACCOUNT_UPDATES = (
    "CREATE TEMP TABLE IF NOT EXISTS updated (id TEXT)",
    "CREATE TEMP TRIGGER IF NOT EXISTS log_updates AFTER UPDATE ON accounts "
    "BEGIN INSERT INTO updated VALUES (new.id); END",
)


@pytest.fixture
def synth(book):
    build_synth(book, 300, seed=5)
    return book


def _scores(book) -> dict[str, tuple]:
    return {r[0]: tuple(r[1:]) for r in book.query(f"SELECT id, {SCORES} FROM scored_accounts")}


def _change_inputs(book) -> None:
    """Edits that move some scores (and the top-decile cut and segment averages with them)."""
    with book.write() as conn:
        conn.execute(
            "UPDATE accounts SET onboarding_pct = 0, sponsor_engaged = 0 WHERE rowid % 5 = 0"
        )
        conn.execute("UPDATE accounts SET open_escalations = 3 WHERE rowid % 9 = 0")
        conn.execute(
            "DELETE FROM usage WHERE (account_id, date) IN "
            "(SELECT account_id, max(date) FROM usage GROUP BY account_id LIMIT 40)"
        )
        # stored columns that disagree with the data: the next full rescore must correct them
        conn.execute("UPDATE accounts SET risk_top10 = 1 WHERE rowid % 13 = 0")
        conn.execute("UPDATE account_health SET health_score = 1 WHERE account_rowid % 13 = 0")
        conn.execute(
            "UPDATE accounts SET health_band = NULL, last_touch_at = '' WHERE rowid % 17 = 0"
        )
        conn.execute("UPDATE accounts SET last_touch_at = '' WHERE last_touch_at IS NULL")
        conn.execute("UPDATE accounts SET risk_segment = NULL WHERE rowid % 19 = 0")
        conn.execute("UPDATE account_health SET health_delta_7 = 99 WHERE account_rowid % 19 = 0")


def test_incremental_full_rescores_equal_a_rescore_from_scratch(synth):
    rescore_all(synth, today=TODAY - timedelta(days=7))
    rescore_all(synth)
    _change_inputs(synth)
    rescore_all(synth)
    incremental = _scores(synth)
    with synth.write() as conn:
        for statement in _BLANK:
            conn.execute(statement)
    rescore_all(synth)
    scratch = _scores(synth)
    assert incremental == scratch
    assert synth.scalar("SELECT count(*) FROM scored_accounts WHERE scored_at IS NULL") == 0


def test_unchanged_accounts_are_not_rewritten(synth):
    rescore_all(synth)
    with synth.write() as conn:
        conn.execute("UPDATE account_health SET scored_at = 'before'")
    for statement in _LOG_ACCOUNT_UPDATES:
        synth.conn.execute(statement)
    rescore_all(synth)  # same day, same data: nothing to write
    assert synth.scalar("SELECT count(*) FROM scored_accounts WHERE scored_at != 'before'") == 0
    assert synth.scalar("SELECT count(*) FROM updated") == 0
    with synth.write() as conn:
        conn.execute("UPDATE accounts SET open_escalations = 5 WHERE id = 'A0000007'")
        conn.execute("DELETE FROM updated")
    before = _scores(synth)
    rescore_all(synth)
    after = _scores(synth)
    rewritten = {
        r[0] for r in synth.query("SELECT id FROM scored_accounts WHERE scored_at != 'before'")
    }
    assert "A0000007" in rewritten
    assert rewritten == {k for k in after if after[k] != before[k]}
    # an accounts row is rewritten only when one of its own score columns moved
    updated = {r[0] for r in synth.query("SELECT id FROM updated")}
    assert updated == {k for k in after if _accounts_part(after[k]) != _accounts_part(before[k])}


def _accounts_part(scores: tuple) -> tuple:
    """The score columns kept on `accounts` (not in `account_health`), in `SCORES` order."""
    return tuple(v for c, v in zip(CURRENT_COLUMNS, scores, strict=True) if c not in HEALTH_COLUMNS)


def test_a_new_day_that_moves_only_health_scores_leaves_the_accounts_rows_alone(synth):
    """The next day's rescore moves most health scores (days-since measures) and almost no
    band: the wide accounts rows stay as they are, the narrow health rows take the change."""
    rescore_all(synth)
    before = _scores(synth)
    for statement in _LOG_ACCOUNT_UPDATES:
        synth.conn.execute(statement)
    rescore_all(synth, today=TODAY + timedelta(days=1))
    after = _scores(synth)
    health_moved = {k for k in after if after[k][0] != before[k][0]}
    assert len(health_moved) > 30  # the day moved many scores
    updated = {r[0] for r in synth.query("SELECT id FROM updated")}
    assert updated == {k for k in after if _accounts_part(after[k]) != _accounts_part(before[k])}
    assert len(updated) < len(health_moved)


@pytest.mark.parametrize("rows", [0, 1, 2, 7])
def test_explain_lines_are_one_json_object_of_points_per_account(rows) -> None:
    import json

    import numpy as np

    from csm_tui.scoring.config import default_config
    from csm_tui.scoring.engine import _explain_lines

    cfg = default_config()
    points = np.random.default_rng(rows).random((rows, len(cfg.measures))) * 30
    points[::2, 1] = np.nan
    lines = _explain_lines(points, cfg)
    assert len(lines) == rows
    for line, row in zip(lines, points, strict=True):
        parsed = json.loads(line)["points"]
        assert list(parsed) == [m.key for m in cfg.measures]
        expected = [None if np.isnan(v) else round(float(v), 2) for v in row]
        assert list(parsed.values()) == pytest.approx(expected, abs=0.006)


def test_key_order_sorts_only_what_needs_it() -> None:
    import numpy as np

    from csm_tui.scoring.measures import key_order

    assert key_order(np.array(["a", "b", "b", "c"], dtype=object)) is None
    ids = np.array(["0015x", "0012a", "0019z", "0012b"], dtype=object)
    assert ids[key_order(ids)].tolist() == sorted(ids.tolist())
    mixed = np.array(["b", b"a", "c"], dtype=object)  # an id written as a blob elsewhere
    assert sorted(key_order(mixed).tolist()) == [0, 1, 2]


def test_snapshots_written_in_id_order_stay_with_their_accounts(synth) -> None:
    """Ids out of rowid order (as a CRM's are): the snapshot rows are written sorted by id, and
    each still carries its own account's score, band and explain (whose points sum to it)."""
    import json

    with synth.write() as conn:
        conn.execute("UPDATE accounts SET rowid = -rowid")  # rowid order now reverses id order
    rescore_all(synth)
    from csm_tui.storage.history import all_snapshots

    with synth.read() as conn:
        snaps = {s["account_id"]: s for s in all_snapshots(conn) if s["date"] == TODAY.isoformat()}
    rows = [
        (a, score, band, snaps[a]["score"], snaps[a]["band"], snaps[a]["explain"])
        for a, score, band in synth.query(
            "SELECT id, health_score, health_band FROM scored_accounts"
        )
    ]
    assert len(rows) == len(snaps) == 300
    for account, score, band, h_score, h_band, explain in rows:
        assert (h_score, h_band) == (score, band), account
        points = [v for v in json.loads(explain)["points"].values() if v is not None]
        if score is not None:
            assert sum(points) == pytest.approx(score, abs=0.1), account


_VALUES = st.one_of(
    st.none(), st.just(float("nan")), st.sampled_from(["red", "green", ""]), st.floats(-1, 1)
)


@given(st.lists(st.tuples(_VALUES, _VALUES), max_size=30), st.booleans())
def test_a_score_counts_as_changed_unless_equal_or_both_missing(pairs, as_text) -> None:
    """None and NaN both mean NULL (unchanged between them); any other pair differs unless
    equal. Checked on text (object) columns and on numbers."""
    import numpy as np

    from csm_tui.scoring.engine import _changed

    def missing(v) -> bool:
        return v is None or (isinstance(v, float) and v != v)

    if not as_text:
        pairs = [
            (np.nan if missing(a) or isinstance(a, str) else a,
             np.nan if missing(b) or isinstance(b, str) else b)
            for a, b in pairs
        ]  # fmt: skip
    new = np.array([a for a, _ in pairs], dtype=object if as_text else float)
    current = np.array([b for _, b in pairs], dtype=object if as_text else float)
    expected = [not (missing(a) and missing(b)) and (missing(a) or missing(b) or a != b)
                for a, b in pairs]  # fmt: skip
    assert _changed(new, current).tolist() == expected
