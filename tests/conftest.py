"""Shared fixtures. Autouse: the developer's own config, data and clock never leak into tests."""

from __future__ import annotations

from pathlib import Path

import pytest

#: Every test runs "on" this day, so demo books, renewals windows and snapshots are stable.
TEST_TODAY = "2026-11-23"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Point data dir, config dir and CSM_DB at a fresh temp dir; fix today's date."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("CSM_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("CSM_CONFIG_DIR", str(home / "config"))
    monkeypatch.delenv("CSM_DB", raising=False)
    monkeypatch.delenv("CSM_DEBUG", raising=False)
    monkeypatch.setenv("CSM_TODAY", TEST_TODAY)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    yield home


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A path for a new, empty book."""
    return tmp_path / "book.db"


@pytest.fixture
def book(db_path: Path):
    """An open, empty book (schema migrated)."""
    from csm_tui.storage.db import open_book

    b = open_book(db_path)
    yield b
    b.close()


@pytest.fixture(scope="session")
def telco_csv() -> Path:
    """The public IBM Telco churn file shipped in ../shared/data (never copied into the repo)."""
    path = (
        Path(__file__).resolve().parents[1].parent / "shared" / "data" / "telco_customer_churn.csv"
    )
    if not path.exists():
        pytest.fail(f"expected the shared Telco data set at {path}")
    return path
