"""Reliability tests: print the fault-test figures the issue asks for at the end of the run."""

from __future__ import annotations

from tests.reliability.procs import FIGURES


def pytest_terminal_summary(terminalreporter) -> None:
    """Rounds killed, acknowledged edits, lost edits and lock errors seen, summed."""
    if not FIGURES.processes_run:
        return
    f = FIGURES
    terminalreporter.write_sep("-", "csm reliability figures")
    for line in (
        f"rounds killed (kill -9): {f.rounds_killed} (edit loops "
        f"{f.rounds_killed - f.imports_killed - f.rescores_killed - f.mixed_rounds_killed}, "
        f"imports {f.imports_killed}, full rescores {f.rescores_killed}, "
        f"log loops + import + rescore at once {f.mixed_rounds_killed})",
        f"acknowledged edits: {f.acknowledged_edits}; lost edits: {f.lost_edits} (must be 0)",
        f"imports half-written: {f.imports_half_written}; "
        f"rescores half-written: {f.rescores_half_written} (must be 0)",
        f"lock errors seen by a user: {f.lock_errors_seen} (must be 0)",
        f"csm processes run: {f.processes_run}",
        *f.notes,
    ):
        terminalreporter.write_line(line)
