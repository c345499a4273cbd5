"""Cost of one user edit: the service call in-process, and a whole `csm log` invocation.

    python3 bench/bench_edit.py [--accounts 1000] [--repeat 200] [--cli 10]

Prints medians (ms) with the book size named: `log_event` and `update_account` (write +
rescore of that account, one synchronous=FULL transaction), the same edit committed with
synchronous=NORMAL to show what durability costs, a bare one-row commit at FULL vs NORMAL,
and a `python -m csm_tui log` process end to end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from csm_tui.service.edits import log_event, update_account  # noqa: E402
from csm_tui.storage.db import open_book  # noqa: E402
from tests.reliability.books import account_id, seed_accounts  # noqa: E402


def median_ms(fn: Callable[[int], object], repeat: int) -> float:
    """Median wall time of `fn(i)` over `repeat` calls, in milliseconds."""
    times = []
    for i in range(repeat):
        started = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def bench_in_process(book, n_accounts: int, repeat: int) -> dict[str, float]:
    """Service-call medians at FULL and NORMAL, and a bare commit at each."""

    def pick(i: int) -> str:
        return account_id(1 + (i * 7919) % n_accounts)

    def log_full(i: int) -> None:
        log_event(book, pick(i), "call", f"bench call {i}")

    def log_normal(i: int) -> None:
        with book.write(durable=False):  # the service call joins this NORMAL transaction
            log_event(book, pick(i), "call", f"bench call {i}")

    def set_full(i: int) -> None:
        update_account(book, pick(i), {"seats": str(50 + i % 100), "custom.bench": str(i)})

    def bare(durable: bool) -> Callable[[int], None]:
        def commit(i: int) -> None:
            with book.write(durable=durable) as conn:
                conn.execute("UPDATE meta SET value = ? WHERE key = 'bench'", (str(i),))

        return commit

    with book.write() as conn:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('bench', '0')")
    return {
        "log_event (FULL)": median_ms(log_full, repeat),
        "log_event (NORMAL)": median_ms(log_normal, repeat),
        "update_account (FULL)": median_ms(set_full, repeat),
        "bare commit (FULL)": median_ms(bare(True), repeat),
        "bare commit (NORMAL)": median_ms(bare(False), repeat),
    }


def bench_cli(db: Path, runs: int) -> float:
    """Median ms of a whole `python -m csm_tui log` process."""

    def run(i: int) -> None:
        argv = [
            sys.executable,
            "-m",
            "csm_tui",
            "log",
            "--db",
            str(db),
            account_id(1),
            "--kind",
            "note",
            "--text",
            f"cli bench {i}",
        ]
        subprocess.run(argv, cwd=REPO, check=True, capture_output=True)

    return median_ms(run, runs)


def main() -> None:
    """Build a book of the requested size in a temp dir and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--cli", type=int, default=10)
    args = parser.parse_args()
    os.environ.setdefault("CSM_TODAY", "2026-11-23")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        book = open_book(db)
        seed_accounts(book, args.accounts)
        figures = bench_in_process(book, args.accounts, args.repeat)
        book.close()
        figures["csm log process"] = bench_cli(db, args.cli)
    print(
        f"edit benchmarks — book of {args.accounts:,} accounts (13 weekly usage rows each), "
        f"medians of {args.repeat} edits ({args.cli} for the process)"
    )
    for name, ms in figures.items():
        print(f"  {name:<24} {ms:8.2f} ms")
    print(
        f"  durability (FULL − NORMAL, log_event): "
        f"{figures['log_event (FULL)'] - figures['log_event (NORMAL)']:.2f} ms"
    )


if __name__ == "__main__":
    main()
