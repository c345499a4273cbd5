"""The renewals screen: window switching, totals on screen, the CSM's call set by key."""

from __future__ import annotations

from datetime import date

import pytest
from textual.app import App
from textual.widgets import DataTable

from csm_tui.screens.renewals import RenewalsScreen
from csm_tui.service.book_session import BookSession
from csm_tui.storage.db import open_book
from csm_tui.widgets.timeline import RenewalTimeline, TimelineMarker, layout_markers
from tests.accounts import insert_accounts


class RenewalsApp(App):
    def __init__(self, path) -> None:
        super().__init__()
        self.session = BookSession(path)

    def on_mount(self) -> None:
        self.push_screen(RenewalsScreen())

    def on_unmount(self) -> None:
        self.session.close()


@pytest.fixture
def renewals_path(db_path):
    book = open_book(db_path)
    with book.write() as conn:
        columns = ("id", "name", "arr", "health_band", "health_score", "churn_prob")
        accounts = [
            ("G1", "Green Co", 100_000, "green", 85, 0.10),
            ("R1", "Red Co", 20_000, "red", 35, None),
            ("Y1", "Yellow Co", 40_000, "yellow", 60, 0.30),
        ]
        insert_accounts(conn, [dict(zip(columns, a, strict=True)) for a in accounts])
        conn.executemany(
            "INSERT INTO renewals (id, account_id, due_date, arr_before, csm_call) "
            "VALUES (?, ?, ?, ?, ?)",
            [
                ("RN1", "G1", "2026-12-01", 100_000, None),  # in 8 days
                ("RN2", "R1", "2027-01-15", 20_000, "likely"),  # in 53 days
                ("RN3", "Y1", "2027-04-01", 40_000, None),  # in 129 days
            ],
        )
    book.close()
    return db_path


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def totals_text(app) -> str:
    return str(app.screen.query_one("#renewals-totals").render())


async def test_window_switch_changes_rows_and_totals(renewals_path):
    app = RenewalsApp(renewals_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.days == 90
        assert [i.renewal_id for i in screen.view.items] == ["RN1", "RN2"]
        # 90 days: up 100k + 20k = $120k; at risk: red 20k; forecast 90k + 10k = $100k
        text = totals_text(app)
        assert "up for renewal $120k" in text and "at risk $20k" in text
        assert "forecast $100k" in text and "1 call disagrees" in text
        assert "band rates (*) where unscored" in text
        await pilot.press("left_square_bracket", "left_square_bracket")
        await settle(pilot)
        assert screen.days == 30 and [i.renewal_id for i in screen.view.items] == ["RN1"]
        assert "up for renewal $100k" in totals_text(app)
        await pilot.press(*["right_square_bracket"] * 3)
        await settle(pilot)
        assert screen.days == 180 and screen.query_one(DataTable).row_count == 3
        assert "up for renewal $160k" in totals_text(app)
        markers = screen.query_one(RenewalTimeline).markers
        assert sorted(m.label for m in markers) == ["$100k", "$20k", "$40k"]


async def test_call_set_by_key_and_disagreement_marked(renewals_path):
    app = RenewalsApp(renewals_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("r")  # Green Co (first row): called at risk while green, 10 %
        await settle(pilot)
        book = app.session.book
        assert book.scalar("SELECT csm_call FROM renewals WHERE id = 'RN1'") == "at_risk"
        row = app.screen.query_one(DataTable).get_row_at(0)
        assert str(row[6]) == "at risk" and str(row[7]).startswith("⚠ called at risk but green")
        assert "2 calls disagree" in totals_text(app)
        await pilot.press("j", "c")  # Red Co: likely → commit, still a gap
        await settle(pilot)
        assert book.scalar("SELECT csm_call FROM renewals WHERE id = 'RN2'") == "commit"
        await pilot.press("minus")
        await settle(pilot)
        assert book.scalar("SELECT csm_call FROM renewals WHERE id = 'RN2'") is None
        assert "1 call disagrees" in totals_text(app)


def test_timeline_layout_packs_lanes_biggest_first():
    start, end = date(2026, 11, 23), date(2027, 2, 21)  # 90 days on a 91-column axis
    big = TimelineMarker(date(2026, 12, 1), "$100k", "green", weight=100_000)
    near = TimelineMarker(date(2026, 12, 2), "$20k", "red", weight=20_000)
    far = TimelineMarker(date(2027, 2, 21), "$40k", "yellow", weight=40_000)
    lanes, hidden = layout_markers([near, far, big], start, end, width=91, lanes=2)
    # big at column 8 ("●$100k" spans 8–13); near (col 9) collides → lane 2; far is pushed
    # left so its label "●$40k" (5 wide) ends inside the axis: 91 − 5 = 86.
    assert [(p.x, p.marker.label) for p in lanes[0]] == [(8, "$100k"), (86, "$40k")]
    assert [(p.x, p.marker.label) for p in lanes[1]] == [(9, "$20k")]
    assert hidden == 0
    lanes, hidden = layout_markers([near, big], start, end, width=91, lanes=1)
    assert hidden == 1 and lanes[0][0].marker is big
