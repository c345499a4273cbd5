"""What a full rescore reads ahead (the deltas' whole-book days, the alert pairs) on a
connection of its own, or on the rescore's."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from csm_tui.scoring.alerts import book_pairs
from csm_tui.scoring.engine import rescore_all
from csm_tui.scoring.read_ahead import ReadAhead, book_snapshot
from csm_tui.storage import history
from tests.scoring.conftest import TODAY
from tests.scoring.synth import build as build_synth


def _plain(pairs: dict) -> dict:
    """The alert pairs with their rowid arrays as lists, to compare."""
    return {
        kind: [(rule, rowids.tolist(), gone) for rule, rowids, gone in rules]
        for kind, rules in pairs.items()
    }


@pytest.fixture
def synth(book):
    build_synth(book, 120, seed=5)
    for days in (7, 30):
        rescore_all(book, today=TODAY - timedelta(days=days), history_only=True)
    rescore_all(book, today=TODAY - timedelta(days=1))  # alerts
    return book


def test_the_read_ahead_equals_the_rescores_own_read(synth):
    with synth.write() as conn:
        past = ReadAhead.start(synth.path, TODAY, own_transaction=True)
        assert past.reads_ahead
        for days in (7, 30):
            ahead = past.snapshot(conn, days)
            own = book_snapshot(conn, TODAY, days)
            assert len(ahead) > 100 and ahead["score"].notna().any()
            pd.testing.assert_frame_equal(ahead, own)
        pairs = past.alert_pairs(conn)
        assert _plain(pairs) == _plain(book_pairs(conn))
        assert sum(len(rowids) for _, rowids, _ in pairs["blocked"]) > 10


def test_a_read_ahead_that_fails_is_read_on_the_rescores_connection(synth, tmp_path):
    not_a_book = tmp_path / "notes.db"
    not_a_book.write_bytes(b"these are not the accounts you are looking for" * 100)
    with synth.write() as conn:
        past = ReadAhead.start(not_a_book, TODAY, own_transaction=True)
        pd.testing.assert_frame_equal(past.snapshot(conn, 7), book_snapshot(conn, TODAY, 7))
        assert _plain(past.alert_pairs(conn)) == _plain(book_pairs(conn))
        assert not past.reads_ahead


def test_inside_a_callers_transaction_the_deltas_see_its_uncommitted_history(synth):
    week_ago = (TODAY - timedelta(days=7)).isoformat()
    account = synth.scalar("SELECT id FROM accounts WHERE status != 'churned' ORDER BY id")
    with synth.write() as conn:
        # an imported snapshot of a week ago, not yet committed when the rescore runs
        conn.execute(history.ROW_REPLACE, (account, week_ago, 0.0, "red", 0, 0, 0, 0, None, "{}"))
        rescore_all(synth)
    score, delta = synth.query(
        "SELECT health_score, health_delta_7 FROM scored_accounts WHERE id = ?", (account,)
    )[0]
    assert score is not None and delta == pytest.approx(score, abs=0.05)


def test_inside_a_callers_transaction_the_alerts_see_its_uncommitted_changes(synth):
    """Alerts deleted in the caller's transaction (not committed when the rescore runs) are
    opened again; a reader of the committed book would still see them as live."""
    live = synth.scalar("SELECT count(*) FROM alerts WHERE status != 'done'")
    assert live > 10
    with synth.write() as conn:
        conn.execute("DELETE FROM alerts")
        summary = rescore_all(synth)
    assert summary.alerts_opened >= live - 5  # a day later, a few conditions may have moved
    assert (
        synth.scalar("SELECT count(*) FROM alerts WHERE status = 'open'") == summary.alerts_opened
    )
