"""The deltas' whole-book days: read ahead on a connection of their own, or on the rescore's."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from csm_tui.scoring.engine import rescore_all
from csm_tui.scoring.past_days import PastDays, book_snapshot
from csm_tui.storage import history
from tests.scoring.conftest import TODAY
from tests.scoring.synth import build as build_synth


@pytest.fixture
def synth(book):
    build_synth(book, 120, seed=5)
    for days in (7, 30):
        rescore_all(book, today=TODAY - timedelta(days=days), history_only=True)
    return book


def test_the_read_ahead_equals_the_rescores_own_read(synth):
    with synth.write() as conn:
        past = PastDays.start(synth.path, TODAY, own_transaction=True)
        assert past.reads_ahead
        for days in (7, 30):
            ahead = past.snapshot(conn, days)
            own = book_snapshot(conn, TODAY, days)
            assert len(ahead) > 100 and ahead["score"].notna().any()
            pd.testing.assert_frame_equal(ahead, own)


def test_a_read_ahead_that_fails_is_read_on_the_rescores_connection(synth, tmp_path):
    not_a_book = tmp_path / "notes.db"
    not_a_book.write_bytes(b"these are not the accounts you are looking for" * 100)
    with synth.write() as conn:
        past = PastDays.start(not_a_book, TODAY, own_transaction=True)
        pd.testing.assert_frame_equal(past.snapshot(conn, 7), book_snapshot(conn, TODAY, 7))
        assert not past.reads_ahead


def test_inside_a_callers_transaction_the_deltas_see_its_uncommitted_history(synth):
    week_ago = (TODAY - timedelta(days=7)).isoformat()
    account = synth.scalar("SELECT id FROM accounts WHERE status != 'churned' ORDER BY id")
    with synth.write() as conn:
        # an imported snapshot of a week ago, not yet committed when the rescore runs
        conn.execute(history.ROW_REPLACE, (account, week_ago, 0.0, "red", 0, 0, 0, 0, None, "{}"))
        rescore_all(synth)
    score, delta = synth.query(
        "SELECT health_score, health_delta_7 FROM accounts WHERE id = ?", (account,)
    )[0]
    assert score is not None and delta == pytest.approx(score, abs=0.05)
