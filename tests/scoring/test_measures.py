"""Raw measures: definitions, point in time, and the per-account and vectorised forms agreeing."""

from __future__ import annotations

import math
from datetime import date

import pytest

from csm_tui.scoring.measures import FACT_KEYS, measures_for_account, measures_frame
from tests.scoring.conftest import TODAY


def _same(a, b) -> bool:
    if a is None or b is None or (isinstance(b, float) and math.isnan(b)) or b == "":
        empty_b = b is None or b == "" or (isinstance(b, float) and math.isnan(b))
        return a is None and empty_b
    if isinstance(a, float):
        return a == pytest.approx(float(b), rel=1e-9, abs=1e-9)
    return a == b


@pytest.mark.parametrize("as_of", [TODAY, date(2026, 10, 1), date(2026, 6, 15)])
def test_both_forms_agree_on_every_account(synth_book, as_of):
    frame = measures_frame(synth_book.conn, as_of)
    ids = frame["account_id"].tolist()
    assert len(ids) == 400
    for account_id in ids[::7]:
        one = measures_for_account(synth_book.conn, account_id, as_of)
        row = frame.loc[account_id]
        wrong = {k: (one[k], row[k]) for k in FACT_KEYS if not _same(one[k], row[k])}
        assert not wrong, f"{account_id}: {wrong}"


def test_frame_for_some_accounts_matches_the_whole_book(synth_book):
    whole = measures_frame(synth_book.conn, TODAY)
    some = measures_frame(synth_book.conn, TODAY, ["A0000003", "A0000010"])
    assert some["account_id"].tolist() == ["A0000003", "A0000010"]
    assert some.loc["A0000010", "support_load"] == pytest.approx(
        whole.loc["A0000010", "support_load"]
    )


def test_unknown_account_has_no_facts(book):
    assert measures_for_account(book.conn, "NOPE", TODAY) is None


def test_usage_definitions(book, build):
    build.account("A", seats=200)
    build.usage("A", 0, mau=50, active=100, seats=200, dau=10, used=3, total=12)
    build.usage("A", 30, mau=100)
    build.usage("A", 59, mau=60)
    build.usage("A", 61, mau=1000)  # outside the 60 days before the latest snapshot
    f = measures_for_account(book.conn, "A", TODAY)
    assert f["seat_utilisation"] == pytest.approx(50)
    assert f["stickiness"] == pytest.approx(20)
    assert f["feature_adoption"] == pytest.approx(25)
    assert f["usage_trend"] == pytest.approx(50 / 80 * 100 - 100)
    assert (f["mau"], f["mau_prev"], f["mau_prev_date"]) == (50, 100, "2026-10-24")


def test_point_in_time_ignores_later_data(book, build):
    build.account("A", seats=100)
    build.usage("A", 40, mau=80)
    build.usage("A", 0, mau=10)
    build.response("A", 45, 9)
    build.response("A", 2, 1)
    build.event("A", 45, "meeting")
    build.event("A", 1, "email")
    build.ticket("A", 5)
    past = date(2026, 10, 15)  # 39 days before TODAY
    f = measures_for_account(book.conn, "A", past)
    assert f["mau"] == 80 and f["usage_date"] == "2026-10-14"
    assert f["nps"] == 9
    assert f["last_touch"] == 6
    assert f["support_load"] == 0


def test_support_load_counts_recent_tickets_and_penalises_open_sev12(book, build):
    build.account("A", seats=50)
    for _ in range(2):
        build.ticket("A", 10)
    build.ticket("A", 100)  # older than 90 days
    build.ticket("A", 200, severity=1, open_=True)  # old but still open: penalised
    f = measures_for_account(book.conn, "A", TODAY)
    assert f["support_load"] == pytest.approx(2 * 100 / 50 + 5)
    assert f["open_sev1"] == 1


def test_stakeholders_and_outcomes(book, build):
    build.account("A", sponsor_engaged=None)
    build.contact("A", "champion", name="Ana Diaz", left_days_ago=12)
    build.contact("A", "sponsor", name="Sam Lee")
    build.objective("A", "on_track")
    build.objective("A", "done")
    build.objective("A", "at_risk")
    build.objective("A", "off_track")
    f = measures_for_account(book.conn, "A", TODAY)
    assert f["champion"] == 0 and f["sponsor"] is None and f["sponsor_present"] == 1
    assert (f["left_role"], f["left_name"], f["left_on"]) == ("champion", "Ana Diaz", "2026-11-11")
    assert f["objectives"] == pytest.approx(50)
    # before she left, the champion was in place
    assert measures_for_account(book.conn, "A", date(2026, 11, 1))["champion"] == 1


def test_no_contacts_means_no_champion_data_not_zero(book, build):
    build.account("A")
    assert measures_for_account(book.conn, "A", TODAY)["champion"] is None


def test_latest_answers_and_touches(book, build):
    build.account("A")
    build.response("A", 30, 10)
    build.response("A", 3, 4)
    build.response("A", 3, 4, kind="csat")
    build.event("A", 20, "qbr")
    build.event("A", 2, "note")  # a note to self is not a touch
    f = measures_for_account(book.conn, "A", TODAY)
    assert (f["nps"], f["nps_date"], f["csat"]) == (4, "2026-11-20", 4)
    assert f["last_touch"] == 20 and f["qbr"] == 20


@pytest.mark.parametrize(
    "ids",
    [
        ["A1", "é-ü 北京", 'quote " and \\ backslash', "tab\there", "A1"],
        [7, "A2", b"\x00blob"],  # another program's numbers and blobs: bound as they are
        [],
    ],
)
def test_ids_filter_selects_exactly_the_ids_given(ids) -> None:
    import sqlite3

    from csm_tui.scoring.measures import ids_filter

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (id TEXT)")  # as accounts.id
    stored = [*{repr(v): v for v in ids}.values(), "not-asked", "A10"]
    conn.executemany("INSERT INTO t VALUES (?)", [(v,) for v in stored])
    where = ids_filter(conn, ids).format(col="id")
    got = [r[0] for r in conn.execute(f"SELECT id FROM t WHERE {where}")]  # noqa: S608
    expected = [v if isinstance(v, bytes) else str(v) for v in dict.fromkeys(ids)]
    assert sorted(map(repr, got)) == sorted(map(repr, expected))


def test_tickets_queries_read_the_covering_index_alone(synth_book):
    """Schema v7: the health and churn tickets queries (the whole book, or a set of accounts)
    find every column they read in `tickets_account`, with no row lookup per ticket."""
    from csm_tui.scoring import churn_features
    from csm_tui.scoring.measures import Window, _queries, ids_filter

    conn = synth_book.conn
    params = Window(TODAY).params()
    some = ids_filter(conn, ["A0000003", "A0000010"]).format(col="account_id")
    churn = churn_features._BULK_SQL[churn_features._TICKETS_SQL]
    for sql, args in (
        (_queries()["tickets"].format(where="1"), params),
        (_queries()["tickets"].format(where=some), params),
        (churn, {"as_of": "2026-11-24", "d30": "2026-10-25", "d90": "2026-08-26"}),
    ):
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", args)]
        assert any("COVERING INDEX tickets_account" in line for line in plan), plan
