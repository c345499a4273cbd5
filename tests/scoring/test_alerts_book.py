"""The full rescore's alert lifecycle (`apply_book_alerts`) does exactly what the general one
(`apply_alerts`) does, for any mix of live, snoozed, closed and cleared alerts and fired rules."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from csm_tui.scoring.alerts import apply_alerts, apply_book_alerts, known_pairs
from csm_tui.scoring.engine import BOOK_SCOPE
from csm_tui.storage.db import open_book

ACCOUNTS = ("A1", "A2", "A3", "A4")
RULES = ("usage_drop", "nps_detractor", "renewal_not_green")
TODAY = "2026-11-23"
NOW = "2026-11-23T09:00:00"
SCOPE = BOOK_SCOPE


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("alerts") / "book.db"
    book = open_book(path)
    with book.write() as conn:
        for i, account in enumerate(ACCOUNTS):
            status = "churned" if i == 3 else "active"
            conn.execute(
                "INSERT INTO accounts (id, name, status) VALUES (?, ?, ?)",
                (account, account, status),
            )
    book.close()
    return path


alert_rows = st.lists(
    st.tuples(
        st.sampled_from(ACCOUNTS),
        st.sampled_from(RULES),
        st.sampled_from(["open", "snoozed", "done"]),
        st.booleans(),  # condition_cleared (done alerts)
        st.booleans(),  # condition_cleared_on noted (live alerts)
        st.sampled_from(["2026-11-20", "2026-11-23", "2026-12-01"]),  # snoozed until
    ),
    max_size=14,
)
fired_pairs = st.sets(st.tuples(st.sampled_from(ACCOUNTS[:3]), st.sampled_from(RULES)))


def _load(template: Path, rows) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    source = sqlite3.connect(template)
    source.backup(conn)
    source.close()
    live: set[tuple[str, str]] = set()
    for account, rule, status, cleared, noted, until in rows:
        if status != "done" and (account, rule) in live:
            continue  # one live alert per account and rule
        if status != "done":
            live.add((account, rule))
        detail = json.dumps({"condition_cleared_on": "2026-11-01"} if noted else {})
        conn.execute(
            "INSERT INTO alerts (account_id, rule, severity, status, fired_at, reason, detail, "
            "condition_cleared, snoozed_until) VALUES (?, ?, 'high', ?, '2026-11-01', 'r', ?, ?, ?)",
            (account, rule, status, detail, int(cleared), until if status == "snoozed" else None),
        )
    return conn


def _table(conn: sqlite3.Connection) -> list[tuple]:
    return conn.execute("SELECT * FROM alerts ORDER BY id").fetchall()


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=alert_rows, pairs=fired_pairs)
def test_the_book_path_equals_the_general_one(template: Path, rows, pairs) -> None:
    general, book = _load(template, rows), _load(template, rows)
    blocked, known = known_pairs(book)
    fired = [(a, r, "high", "" if (a, r) in blocked else "why", "{}") for a, r in sorted(pairs)]
    expected = apply_alerts(general, fired, SCOPE, {}, NOW, TODAY)
    got = apply_book_alerts(book, fired, known, SCOPE, NOW, TODAY)
    assert _table(book) == _table(general)
    opened, cleared, reopened = got
    assert (sorted(opened, key=repr), sorted(cleared, key=repr), reopened) == (
        sorted(expected[0], key=repr),
        sorted(expected[1], key=repr),
        expected[2],
    )


@pytest.mark.parametrize("statement", ["BOOK_REFIRED", "BOOK_CLEARED", "BOOK_DONE_CLEARED"])
def test_the_book_updates_look_pairs_up_by_key(template: Path, statement: str) -> None:
    """Each absent (or refired) pair is matched against the alerts through an index: a scan
    inside these statements costs minutes on a million accounts."""
    from csm_tui.scoring import alerts

    conn = _load(template, [])
    apply_book_alerts(conn, [], set(), SCOPE, NOW, TODAY)  # creates the temp tables
    sql = getattr(alerts, statement).format(scope=SCOPE).split(" RETURNING")[0]
    plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", {"today": TODAY})]
    looked_up = [line for line in plan if " x " in f"{line} " or " a " in f"{line} "]
    assert looked_up and all(
        line.startswith("SEARCH") or line.startswith("SCAN x") for line in looked_up
    ), plan
    # from the few absent (or refired) pairs to their alerts by key, never all alerts of a
    # status (nor, for the refired, every live alert noted as cleared: 290k after 20 days)
    assert plan.index("SCAN x") < next(
        i for i, line in enumerate(plan) if line.startswith("SEARCH a USING")
    ), plan
    assert any(line.startswith("SEARCH a") and "account_id=?" in line for line in plan), plan


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=alert_rows,
    pairs=fired_pairs,
    disabled=st.sampled_from([None, *RULES]),
    omit=st.sampled_from([None, "A3"]),
)
@example(  # an older closed alert whose condition never cleared, behind a cleared later one
    rows=[
        ("A1", "usage_drop", "done", False, False, TODAY),
        ("A1", "usage_drop", "done", True, False, TODAY),
    ],
    pairs=set(),
    disabled=None,
    omit=None,
)
def test_book_changes_equal_evaluate_and_the_known_difference(
    template: Path, rows, pairs, disabled, omit
) -> None:
    """`book_changes` (pair states as masks over the book) gives the rows that may open and
    the pairs whose condition is gone exactly as `evaluate` + `known_pairs` do, with a rule
    switched off and with alerts of an account outside the scored columns."""
    from types import SimpleNamespace

    import numpy as np

    from csm_tui.scoring import alerts

    conn = _load(template, rows)
    accounts = [a for a in (*ACCOUNTS, "B9") if a != omit]
    columns = {
        "account_id": np.array(accounts, dtype=object),
        "status": np.array(["churned" if a == "A4" else "active" for a in accounts], dtype=object),
    }
    cfg = SimpleNamespace(
        rules=[SimpleNamespace(key=r, enabled=r != disabled, severity="high") for r in RULES]
    )

    def rule(key: str):
        def fn(c, rule, as_of):
            return np.array([(a, key) in pairs for a in c["account_id"]]), lambda i: f"why {key}"

        return fn

    as_of = date.fromisoformat(TODAY)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(alerts, "RULES", {r: rule(r) for r in RULES})
        patch.setattr(alerts, "DETAIL_COLUMNS", {r: ["status"] for r in RULES})
        new, absent, refired = alerts.book_changes(conn, columns, cfg, as_of)
        blocked, known = known_pairs(conn)
        fired = alerts.evaluate(columns, cfg, as_of, blocked)
    fired_pairs = {(f[0], f[1]) for f in fired}
    cleared = set(conn.execute(alerts._CLEARED_LIVE).fetchall())
    uncleared = set(conn.execute(alerts._UNCLEARED_DONE).fetchall())
    assert sorted(new) == sorted(f for f in fired if f[3])
    # live alerts already noted as cleared are left out while their condition stays gone
    assert set(absent) == known - fired_pairs - (cleared - uncleared)
    assert set(refired) == cleared & fired_pairs


def test_the_live_alerts_noted_as_cleared_are_read_from_their_partial_index(template) -> None:
    """The pairs `book_changes` leaves alone come from `alerts_cleared_live` (schema v6), not
    from reading every alert's detail."""
    from csm_tui.scoring import alerts

    conn = _load(template, [])
    plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {alerts._CLEARED_LIVE}")]
    assert any("alerts_cleared_live" in line for line in plan), plan


@settings(max_examples=200, deadline=None)
@given(
    book=st.lists(st.text(min_size=1, max_size=4), unique=True, max_size=40),
    wanted=st.lists(st.text(min_size=1, max_size=4), unique=True, max_size=40),
    sort_book=st.booleans(),
    sort_wanted=st.booleans(),
)
def test_positions_equal_a_hash_lookup(book, wanted, sort_book, sort_wanted) -> None:
    """Whatever the orders (the merge when both are sorted, the hash otherwise) and with ids
    missing from the book, `positions` finds what `get_indexer` finds."""
    import numpy as np
    import pandas as pd

    from csm_tui.scoring.alerts import positions

    book = sorted(book) if sort_book else book
    wanted = sorted(wanted + book[::3]) if sort_wanted else wanted + book[::3]
    wanted = list(dict.fromkeys(wanted))
    index = pd.Index(np.array(book, dtype=object))
    expected = pd.Index(np.array(book, dtype=object)).get_indexer(np.array(wanted, dtype=object))
    assert positions(index, wanted).tolist() == expected.tolist()
    assert positions(index, list(book)).tolist() == list(range(len(book)))


def test_positions_of_an_id_that_is_not_text() -> None:
    """A blob id (written behind csm) is simply not found among text ids."""
    import numpy as np
    import pandas as pd

    from csm_tui.scoring.alerts import positions

    index = pd.Index(np.array(["A", "B", "C"], dtype=object))
    assert positions(index, ["A", b"\x00", "C"]).tolist() == [0, -1, 2]


def test_pairs_of_an_account_gone_from_the_book_are_absent(template: Path) -> None:
    """An alert whose account was deleted behind csm (foreign keys off) comes back from
    `book_pairs` by its id, and `book_changes` lists its pair among the absent ones; accounts
    still there are found by rowid whatever the order of the scored columns."""
    from types import SimpleNamespace

    import numpy as np

    from csm_tui.scoring import alerts

    conn = _load(template, [(a, "usage_drop", "open", False, False, TODAY) for a in ACCOUNTS])
    conn.execute("PRAGMA foreign_keys=OFF")
    conn.execute("DELETE FROM accounts WHERE id = ?", (ACCOUNTS[0],))
    pairs = alerts.book_pairs(conn)
    [(rule, rowids, gone)] = pairs["blocked"]
    assert (rule, gone, len(rowids)) == ("usage_drop", [ACCOUNTS[0]], len(ACCOUNTS) - 1)
    kept = list(reversed(ACCOUNTS[1:]))  # not in rowid order
    columns = {
        "account_id": np.array(kept, dtype=object),
        "status": np.array(["active"] * len(kept), dtype=object),
    }
    hit = np.array([a == kept[0] for a in kept])
    cfg = SimpleNamespace(rules=[SimpleNamespace(key="usage_drop", enabled=True, severity="high")])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(alerts, "RULES", {"usage_drop": lambda c, rule, as_of: (hit, str)})
        new, absent, _ = alerts.book_changes(conn, columns, cfg, date.fromisoformat(TODAY), pairs)
    assert new == []  # its live alert blocks the one that fires
    assert absent == sorted((a, "usage_drop") for a in [ACCOUNTS[0], *kept[1:]])
