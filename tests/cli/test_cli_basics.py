"""The `csm` command's top level: help, version, clean errors."""

from __future__ import annotations

import subprocess
import sys

from csm_tui import __version__
from csm_tui.cli import main


def test_version(capsys) -> None:
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert f"csm {__version__}" in capsys.readouterr().out


def test_help_lists_every_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "csm_tui", "--help"], capture_output=True, text=True
    ).stdout
    for command in (
        "demo",
        "import",
        "export",
        "check",
        "backup",
        "restore",
        "score",
        "alerts",
        "model",
        "config",
        "report",
        "log",
        "set",
    ):
        assert command in out, command


def test_a_book_that_is_not_sqlite_is_refused_cleanly(tmp_path) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_text("these are my meeting notes, not a database\n" * 10)
    result = subprocess.run(
        [sys.executable, "-m", "csm_tui", "check", "--db", str(bogus)],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "not a csm book" in result.stderr
    assert "Traceback" not in result.stderr
    assert bogus.read_text().startswith("these are my meeting notes")
