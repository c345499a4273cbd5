"""Running csm in child processes, killing them, and checking the book they leave behind."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from csm_tui.cli import main

REPO = Path(__file__).resolve().parents[2]
#: What a user must never see, in any stream, from any command.
FORBIDDEN_WORDS = ("database is locked", "Traceback", "sqlite3.")


@dataclass
class Figures:
    """The reliability figures the issue asks for, summed over the session's fault tests."""

    rounds_killed: int = 0
    acknowledged_edits: int = 0
    lost_edits: int = 0
    imports_killed: int = 0
    imports_half_written: int = 0
    rescores_killed: int = 0
    rescores_half_written: int = 0
    mixed_rounds_killed: int = 0
    lock_errors_seen: int = 0
    processes_run: int = 0
    notes: list[str] = field(default_factory=list)


FIGURES = Figures()


def csm_argv(*args: str) -> list[str]:
    """`python -m csm_tui ARGS` (faster to start than the console script)."""
    return [sys.executable, "-m", "csm_tui", *args]


def spawn(argv: list[str], **kwargs) -> subprocess.Popen:
    """Start a child in its own process group, text pipes, from the repo root."""
    FIGURES.processes_run += 1
    return subprocess.Popen(
        argv,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        **kwargs,
    )


def run_csm(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run one csm command to completion."""
    FIGURES.processes_run += 1
    return subprocess.run(
        csm_argv(*args), cwd=REPO, capture_output=True, text=True, timeout=timeout
    )


def kill_after(proc: subprocess.Popen, delay: float) -> tuple[str, str, bool]:
    """SIGKILL the child's whole group after `delay` s; return (stdout, stderr, was_killed)."""
    try:
        proc.wait(timeout=delay)
        killed = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        killed = True
    out, err = proc.communicate(timeout=30)
    return out, err, killed


def count_user_visible_lock_errors(*streams: str) -> int:
    """How many lines a user would read as "database is locked" (or a raw traceback)."""
    return sum(
        1
        for text in streams
        for line in text.splitlines()
        if any(w in line for w in FORBIDDEN_WORDS)
    )


def assert_book_valid(db: Path) -> None:
    """SQLite's own integrity and foreign-key checks, then `csm check`, all pass."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()
    assert main(["check", "--db", str(db)]) == 0, f"csm check failed on {db.name}"


def random_delays(rng: random.Random, rounds: int, low: float, high: float) -> list[float]:
    """Kill delays spread over [low, high] (stratified, so every part of the run is hit)."""
    width = (high - low) / rounds
    delays = [low + width * (i + rng.random()) for i in range(rounds)]
    rng.shuffle(delays)
    return delays


def timed(fn) -> float:
    """Seconds `fn()` takes (used to size kill windows, never asserted on)."""
    started = time.monotonic()
    fn()
    return time.monotonic() - started


def kill_once_writing(proc: subprocess.Popen, db: Path, extra: float) -> tuple[str, str, bool]:
    """SIGKILL the child `extra` s after its first page reaches the WAL (mid-commit, typically:
    with a large page cache a transaction's pages reach the WAL only as it commits)."""
    wal = Path(f"{db}-wal")
    while proc.poll() is None:
        if wal.exists() and wal.stat().st_size > 0:
            time.sleep(extra)
            return kill_after(proc, 0)
        time.sleep(0.001)
    out, err = proc.communicate(timeout=30)
    return out, err, False


def kill_each_at(procs: list[subprocess.Popen], delays: list[float]) -> list[tuple[str, str]]:
    """SIGKILL each child at its own moment (if still running); return every (stdout, stderr)."""
    started = time.monotonic()
    pending = sorted(zip(delays, range(len(procs)), strict=True))
    for delay, index in pending:
        time.sleep(max(0.0, started + delay - time.monotonic()))
        if procs[index].poll() is None:
            os.killpg(procs[index].pid, signal.SIGKILL)
    return [proc.communicate(timeout=60) for proc in procs]
