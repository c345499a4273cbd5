"""The alerts inbox service: ordering, close / snooze / undo, batches."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csm_tui.errors import CsmError, NotFound, ValidationError
from csm_tui.service import triage


def _seed(book) -> None:
    """Three accounts (ARR 10k, 50k, 90k) and five alerts of mixed severity."""
    with book.write() as conn:
        conn.executemany(
            "INSERT INTO accounts (id, name, arr) VALUES (?, ?, ?)",
            [("A1", "Small Co", 10_000), ("A2", "Mid Co", 50_000), ("A3", "Big Co", 90_000)],
        )
        conn.executemany(
            "INSERT INTO alerts (id, account_id, rule, severity, fired_at, reason) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (1, "A1", "detractor_nps", "high", "2026-11-23T08:00:00", "NPS 3 (detractor)"),
                (2, "A3", "mau_drop", "medium", "2026-11-20T09:00:00", "MAU 412 → 260, −37 %"),
                (3, "A2", "champion_left", "high", "2026-11-22T10:00:00", "Champion left"),
                (4, "A3", "expansion_signal", "low", "2026-11-01T00:00:00", "Seats 95 % used"),
                (5, "A2", "mau_drop", "medium", "2026-11-23T11:30:00", "MAU 100 → 60"),
            ],
        )


def _state(book, alert_id: int) -> dict:
    row = book.query("SELECT * FROM alerts WHERE id = ?", (alert_id,))[0]
    return dict(row)


def test_open_alerts_by_severity_then_arr(book):
    _seed(book)
    page = triage.open_alerts(book, now=datetime(2026, 11, 23, 12, 0))
    # high: A2 (50k) before A1 (10k); medium: A3 (90k) before A2 (50k); then low.
    assert [r.id for r in page.rows] == [3, 1, 2, 5, 4]
    assert page.total == 5
    first = page.rows[0]
    assert (first.account_name, first.rule_label, first.why) == (
        "Mid Co",
        "Champion left",
        "Champion left",
    )
    assert first.when == "1 d ago"  # 2026-11-22T10:00 → 26 h before noon on the 23rd
    assert page.rows[1].when == "4 h ago"


def test_open_alerts_limit_keeps_total(book):
    _seed(book)
    page = triage.open_alerts(book, limit=2)
    assert len(page.rows) == 2 and page.total == 5


def test_time_ago_words():
    now = datetime(2026, 11, 23, 12, 0)
    assert triage.time_ago("2026-11-23T11:59:30", now) == "just now"
    assert triage.time_ago("2026-11-23T11:45:00", now) == "15 min ago"
    assert triage.time_ago("2026-11-20", now) == "3 d ago"


def test_close_then_undo_restores_exactly(book):
    _seed(book)
    before = _state(book, 2)
    token = triage.close_alerts(book, [2], "False alarm")
    after = _state(book, 2)
    assert after["status"] == "done" and after["close_reason"] == "False alarm"
    assert after["closed_at"].startswith("2026-11-23")
    assert [r.id for r in triage.open_alerts(book).rows] == [3, 1, 5, 4]
    assert "Closed 1 alert" in token.description
    triage.undo(book, token)
    assert _state(book, 2) == before


def test_snooze_batch_then_undo(book):
    _seed(book)
    with book.write() as conn:  # one of them was already snoozed with a reason
        conn.execute(
            "UPDATE alerts SET status='snoozed', snoozed_until='2026-11-25', "
            "snooze_reason='waiting' WHERE id = 4"
        )
    before = {i: _state(book, i) for i in (1, 4, 5)}
    token = triage.snooze_alerts(book, [1, 4, 5], date(2026, 11, 30), "QBR next week")
    assert token.count == 3
    for i in (1, 4, 5):
        s = _state(book, i)
        assert (s["status"], s["snoozed_until"], s["snooze_reason"]) == (
            "snoozed",
            "2026-11-30",
            "QBR next week",
        )
    assert [r.id for r in triage.open_alerts(book).rows] == [3, 2]
    triage.undo(book, token)
    assert {i: _state(book, i) for i in (1, 4, 5)} == before


def test_close_skips_done_alerts_and_refuses_when_none_live(book):
    _seed(book)
    triage.close_alerts(book, [1], "Resolved with customer")
    token = triage.close_alerts(book, [1, 2], "False alarm")
    assert [s.id for s in token.previous] == [2]
    assert _state(book, 1)["close_reason"] == "Resolved with customer"
    with pytest.raises(NotFound):
        triage.close_alerts(book, [1], "again")


def test_close_needs_a_reason_and_snooze_a_future_date(book):
    _seed(book)
    with pytest.raises(ValidationError, match="close reason"):
        triage.close_alerts(book, [1], "   ")
    with pytest.raises(ValidationError, match="not after today"):
        triage.snooze_alerts(book, [1], date(2026, 11, 23))
    assert _state(book, 1)["status"] == "open"


def test_undo_refused_when_rule_fired_again(book):
    _seed(book)
    token = triage.close_alerts(book, [3], "Resolved with customer")
    with book.write() as conn:  # the engine opens a new live alert for the same rule
        conn.execute(
            "INSERT INTO alerts (account_id, rule, severity, fired_at, reason) "
            "VALUES ('A2', 'champion_left', 'high', '2026-11-23T12:00:00', 'again')"
        )
    with pytest.raises(CsmError, match="fired again"):
        triage.undo(book, token)
    assert _state(book, 3)["status"] == "done"


_actions = st.lists(
    st.tuples(
        st.sampled_from(["close", "snooze"]),
        st.sets(st.integers(min_value=1, max_value=5), min_size=1, max_size=5),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=25, deadline=None)
@given(actions=_actions)
def test_undoing_every_action_restores_the_start(tmp_path_factory, actions):
    from csm_tui.storage.db import open_book

    book = open_book(tmp_path_factory.mktemp("undo") / "book.db")
    try:
        _seed(book)
        start = [dict(r) for r in book.query("SELECT * FROM alerts ORDER BY id")]
        tokens = []
        for kind, ids in actions:
            try:
                if kind == "close":
                    tokens.append(triage.close_alerts(book, ids, "False alarm"))
                else:
                    tokens.append(triage.snooze_alerts(book, ids, date(2026, 12, 1)))
            except NotFound:
                pass  # every alert picked was already closed: nothing to undo either
        for token in reversed(tokens):
            triage.undo(book, token)
        assert [dict(r) for r in book.query("SELECT * FROM alerts ORDER BY id")] == start
    finally:
        book.close()
