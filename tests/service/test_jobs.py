"""The app's jobs: full rescore (daily or on demand) and import-then-rescore, with progress."""

from __future__ import annotations

import json
from datetime import date

import pytest

from csm_tui.errors import CsmError, ImportRejected
from csm_tui.service import jobs
from tests.conftest import TEST_TODAY

TODAY = date.fromisoformat(TEST_TODAY)
GOOD = (
    "name,arr,renewal_date,tier\n"
    "Acme Corp,12000,2027-03-01,smb\n"
    "Beta Labs,50000,2027-06-01,enterprise\n"
    "Gamma Inc,8000,2027-01-15,smb\n"
)
BAD = "name,arr,renewal_date\nAcme Corp,12000,2027-03-01\nBeta Labs,lots,2027-13-01\n"


class Recorder:
    """A progress callback that keeps every (done, total) it was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def __call__(self, done: int, total: int = 0) -> None:
        self.calls.append((done, total))


def _set_last_rescore(book, value: str | None) -> None:
    with book.write() as conn:
        conn.execute("DELETE FROM meta WHERE key = 'last_full_rescore'")
        if value is not None:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('last_full_rescore', ?)",
                (json.dumps(value),),
            )


@pytest.fixture
def good_csv(tmp_path):
    path = tmp_path / "accounts.csv"
    path.write_text(GOOD)
    return path


@pytest.fixture
def imported(book, good_csv):
    """A book holding the three accounts of GOOD, imported and scored."""
    jobs.import_into_book(book, good_csv, "accounts")
    return book


def test_import_writes_the_rows_then_rescores_the_book(book, good_csv) -> None:
    progress, rescoring = Recorder(), Recorder()
    outcome = jobs.import_into_book(
        book, good_csv, "accounts", progress, rescore_progress=rescoring
    )
    names = [r[0] for r in book.query("SELECT name FROM accounts ORDER BY name")]
    assert names == ["Acme Corp", "Beta Labs", "Gamma Inc"]
    assert outcome.result.new == 3 and not outcome.dry_run
    assert outcome.rescore is not None and outcome.rescore.accounts == 3
    assert book.scalar("SELECT count(*) FROM scored_accounts WHERE scored_at IS NULL") == 0
    assert jobs.last_full_rescore(book)[:10] == TEST_TODAY
    assert rescoring.calls[0] == (0, 3) and rescoring.calls[-1] == (3, 3)
    assert "Imported 3 accounts (3 new, 0 updated)" in outcome.summary()
    assert "Rescored 3 accounts" in outcome.summary()


def test_a_bad_file_is_rejected_row_by_row_and_nothing_is_written(book, tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(BAD)
    with pytest.raises(ImportRejected) as caught:
        jobs.import_into_book(book, path, "accounts")
    assert any(p.startswith(f"{path}:3: arr:") for p in caught.value.problems)
    assert any(":3: renewal_date:" in p for p in caught.value.problems)
    assert book.scalar("SELECT count(*) FROM accounts") == 0
    assert jobs.last_full_rescore(book) is None


def test_a_dry_run_writes_nothing_and_does_not_rescore(book, good_csv) -> None:
    outcome = jobs.import_into_book(book, good_csv, "accounts", dry_run=True)
    assert outcome.dry_run and outcome.rescore is None
    assert outcome.result.new == 3
    assert book.scalar("SELECT count(*) FROM accounts") == 0
    assert "nothing written" in outcome.summary()


def test_a_failing_rescore_keeps_the_import_and_says_so(book, good_csv, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise CsmError("scoring.toml: weights must add up to 100.")

    monkeypatch.setattr("csm_tui.scoring.engine.rescore_all", broken)
    outcome = jobs.import_into_book(book, good_csv, "accounts")
    assert book.scalar("SELECT count(*) FROM accounts") == 3
    assert outcome.rescore is None
    assert "weights must add up to 100" in outcome.rescore_error
    assert "The import is saved, but rescoring failed" in outcome.summary()


def test_rescore_book_reports_progress_in_accounts_and_stamps_the_day(imported) -> None:
    _set_last_rescore(imported, "2026-11-20T09:00:00")
    progress = Recorder()
    summary = jobs.rescore_book(imported, progress)
    assert summary.accounts == 3
    assert progress.calls[0] == (0, 3) and progress.calls[-1] == (3, 3)
    dones = [done for done, _ in progress.calls]
    assert dones == sorted(dones)
    assert jobs.last_full_rescore(imported)[:10] == TEST_TODAY


def test_staleness_follows_the_day_of_the_last_full_rescore(imported) -> None:
    assert not jobs.rescore_is_stale(imported, TODAY)
    _set_last_rescore(imported, "2026-11-22T23:59:59")
    assert jobs.rescore_is_stale(imported, TODAY)
    assert not jobs.rescore_is_stale(imported, date(2026, 11, 22))
    _set_last_rescore(imported, f"{TEST_TODAY}T00:00:00")
    assert not jobs.rescore_is_stale(imported, TODAY)


def test_a_book_never_fully_rescored_is_left_as_it_is(imported) -> None:
    _set_last_rescore(imported, None)  # e.g. `csm import --no-rescore`
    assert not jobs.rescore_is_stale(imported, TODAY)


def test_an_empty_book_is_never_stale(book) -> None:
    _set_last_rescore(book, "2026-11-01T10:00:00")
    assert not jobs.rescore_is_stale(book, TODAY)


def test_rescore_message_counts_opened_and_reopened_alerts(imported) -> None:
    summary = jobs.rescore_book(imported)
    summary.alerts_opened, summary.alerts_reopened = 1, 0
    assert jobs.rescore_message(summary) == "Rescored 3 accounts: 1 alert opened"
    summary.alerts_opened, summary.alerts_reopened = 10, 2
    assert jobs.rescore_message(summary) == "Rescored 3 accounts: 12 alerts opened"
