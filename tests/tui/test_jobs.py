"""Long jobs in the app: the daily rescore on open, ctrl+r, the palette, importing a file from
the welcome screen or ctrl+o — with a progress line, and the app answering keys meanwhile."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest

from csm_tui.screens.alerts import AlertsScreen
from csm_tui.screens.forms.import_file import ImportForm
from csm_tui.screens.portfolio import PortfolioScreen
from csm_tui.screens.welcome import WelcomeScreen
from csm_tui.widgets.account_table import AccountTable
from csm_tui.widgets.job_progress import JobProgress
from tests.conftest import TEST_TODAY
from tests.tui.conftest import SIZE, read_one, type_text, wait_for, wait_rows

ACCOUNTS_CSV = (
    "name,arr,renewal_date,tier\n"
    "Acme Corp,12000,2027-03-01,smb\n"
    "Beta Labs,50000,2027-06-01,enterprise\n"
    "Gamma Inc,8000,2027-01-15,smb\n"
)
BAD_CSV = "name,arr,renewal_date\nZeta One,12000,2027-03-01\nZeta Two,lots,2027-05-01\n"


def _last_rescore(db_path: Path) -> str | None:
    raw = read_one(db_path, "SELECT value FROM meta WHERE key = 'last_full_rescore'")
    return json.loads(raw) if raw else None


def _set_last_rescore(db_path: Path, stamp: str) -> None:
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('last_full_rescore', ?)",
            (json.dumps(stamp),),
        )
    conn.close()


def _messages(app) -> str:
    return "\n".join(n.message for n in app._notifications)


def _progress_shown(app) -> bool:
    found = app.screen.query(JobProgress)
    return bool(found) and found.first().display


def _record_jobs(app) -> list:
    """Every value `app.job` takes from now on."""
    seen: list = []

    def record(state) -> None:
        seen.append(state)

    app.watch(app, "job", record, init=False)
    return seen


async def _import_through_the_form(pilot, name: str) -> None:
    """Type a file name (relative to the folder the app runs in, as a user would) and Enter."""
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ImportForm))
    await type_text(pilot, name)
    await pilot.press("enter")


async def test_a_stale_book_is_rescored_when_it_opens(app_factory, ui_book) -> None:
    _set_last_rescore(ui_book, "2026-11-20T08:00:00")
    accounts = read_one(ui_book, "SELECT count(*) FROM accounts")
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        seen = _record_jobs(app)
        await wait_rows(pilot)
        await wait_for(pilot, lambda: any(seen) and app.job is None)
        assert _last_rescore(ui_book)[:10] == TEST_TODAY
        labels = {state.label for state in seen if state is not None}
        assert f"Rescoring {accounts:,} accounts" in labels
        assert seen[-1] is None
        assert f"Rescoring {accounts:,} accounts for today…" in _messages(app)
        assert f"Rescored {accounts:,} accounts:" in _messages(app)
        progress = app.screen.query_one(JobProgress)  # it was put on the screen, and hid again
        assert not progress.display and progress.region.height == 0


async def test_a_book_scored_today_is_not_rescored_on_open(app_factory, ui_book) -> None:
    _set_last_rescore(ui_book, f"{TEST_TODAY}T00:00:01")
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        seen = _record_jobs(app)
        await wait_rows(pilot)
        await pilot.pause(0.8)  # a few polls: the daily check has run
        assert not seen and not app.screen.query(JobProgress)
        assert _last_rescore(ui_book) == f"{TEST_TODAY}T00:00:01"


async def test_ctrl_r_rescores_the_book(app_factory, ui_book) -> None:
    _set_last_rescore(ui_book, f"{TEST_TODAY}T00:00:01")
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        seen = _record_jobs(app)
        await wait_rows(pilot)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: any(seen) and app.job is None)
        assert _last_rescore(ui_book) != f"{TEST_TODAY}T00:00:01"
        assert "Rescored" in _messages(app) and "for today" not in _messages(app)


async def test_the_palette_rescores_the_whole_book(app_factory, ui_book) -> None:
    _set_last_rescore(ui_book, f"{TEST_TODAY}T00:00:01")
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("ctrl+p")
        await type_text(pilot, "rescore whole")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "Rescored" in _messages(app) and app.job is None)
        assert _last_rescore(ui_book) != f"{TEST_TODAY}T00:00:01"


async def test_the_app_answers_keys_while_a_job_runs(app_factory, monkeypatch) -> None:
    from csm_tui.scoring import engine

    release = threading.Event()
    real_rescore = engine.rescore_all

    def held_rescore(book, **kwargs):
        release.wait(10)  # the job stays busy until the test has moved around
        return real_rescore(book, **kwargs)

    monkeypatch.setattr(engine, "rescore_all", held_rescore)
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: _progress_shown(app))
        await pilot.press("2")
        await wait_for(pilot, lambda: isinstance(app.screen, AlertsScreen))
        await wait_for(pilot, lambda: _progress_shown(app))  # the line follows the user
        assert app.job is not None and app.job.label.startswith("Rescoring")
        await pilot.press("ctrl+r")  # one job at a time: a second one is refused, politely
        await wait_for(pilot, lambda: "is still running" in _messages(app))
        release.set()
        await wait_for(pilot, lambda: app.job is None)
        assert not _progress_shown(app)
        assert "Rescored" in _messages(app)


@pytest.fixture
def new_book(tmp_path, monkeypatch) -> Path:
    """Where an empty book will be created, with an accounts export in the working folder."""
    monkeypatch.chdir(tmp_path)
    Path("accounts.csv").write_text(ACCOUNTS_CSV)
    return tmp_path / "new-book.db"


async def test_importing_into_an_empty_book_from_the_welcome(app_factory, new_book) -> None:
    db_path = new_book
    app = app_factory(db_path=db_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, WelcomeScreen))
        await pilot.press("i")
        await _import_through_the_form(pilot, "accounts.csv")
        await wait_for(pilot, lambda: isinstance(app.screen, PortfolioScreen))
        await wait_for(pilot, lambda: app.screen.query_one(AccountTable).total == 3)
        assert "Imported 3 accounts (3 new, 0 updated)" in _messages(app)
        assert "Rescored 3 accounts" in _messages(app)
    assert (
        read_one(db_path, "SELECT count(*) FROM scored_accounts WHERE scored_at IS NOT NULL") == 3
    )


async def test_a_dry_run_from_the_welcome_writes_nothing_and_keeps_the_welcome(
    app_factory, new_book
) -> None:
    db_path = new_book
    app = app_factory(db_path=db_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, WelcomeScreen))
        await pilot.press("i")
        await wait_for(pilot, lambda: isinstance(app.screen, ImportForm))
        await type_text(pilot, "accounts.csv")
        await pilot.press("tab", "tab", "space", "ctrl+s")  # path → kind → dry run: tick, go
        await wait_for(pilot, lambda: "Would import 3 accounts" in _messages(app))
        await wait_for(pilot, lambda: app.job is None)
        assert isinstance(app.screen, WelcomeScreen)
    assert read_one(db_path, "SELECT count(*) FROM accounts") == 0


async def test_help_lists_the_job_keys(app_factory) -> None:
    from csm_tui.screens.help import HelpScreen

    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        columns = [list(column.cells) for column in app.screen._table().columns]
        rows = list(zip(*columns, strict=True))
        assert ("^r", "Rescore book", "app.rescore") in rows
        assert ("^o", "Import a file", "app.import") in rows


async def test_a_bad_file_is_listed_row_by_row_and_nothing_is_written(
    app_factory, ui_book, tmp_path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("bad.csv").write_text(BAD_CSV)
    before = read_one(ui_book, "SELECT count(*) FROM accounts")
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("ctrl+o")
        await _import_through_the_form(pilot, "bad.csv")
        await wait_for(pilot, lambda: any(n.severity == "error" for n in app._notifications))
        assert "bad.csv:3: arr: 'lots' is not a number" in _messages(app)
        await wait_for(pilot, lambda: app.job is None)
        assert app.is_running
    assert read_one(ui_book, "SELECT count(*) FROM accounts") == before
    assert read_one(ui_book, "SELECT count(*) FROM accounts WHERE name LIKE 'Zeta%'") == 0


async def test_the_import_form_refuses_a_path_that_is_not_a_file(
    app_factory, tmp_path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await wait_rows(pilot)
        await pilot.press("ctrl+o")
        await _import_through_the_form(pilot, "missing.csv")
        await pilot.pause()
        assert isinstance(app.screen, ImportForm)
        assert "no such file" in str(app.screen.query_one("#error-path").render())
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, PortfolioScreen))
        assert app.job is None


def test_the_throttle_passes_the_first_and_last_report_and_drops_the_rest() -> None:
    from csm_tui.widgets.job_progress import ProgressThrottle

    sent: list[tuple[int, int]] = []
    throttle = ProgressThrottle(lambda done, total: sent.append((done, total)), interval=60)
    for done in range(1001):
        throttle(done, 1000)
    assert sent == [(0, 1000), (1000, 1000)]


def test_a_new_phase_of_a_job_starts_its_counts_afresh() -> None:
    from csm_tui.widgets.job_progress import JobState

    importing = JobState("Importing accounts.csv", "rows", started=0.0)
    further = importing.advanced("Importing accounts.csv", "rows", 500, 1000)
    assert further.started == 0.0 and further.counts(now=2.0) == "500 / 1,000 rows · 250/s"
    rescoring = further.advanced("Rescoring the book", "accounts", 0, 3)
    assert rescoring.label == "Rescoring the book" and rescoring.started > 0.0
    assert rescoring.counts() == "0 / 3 accounts"
