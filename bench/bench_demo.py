"""How long `csm demo` takes: median of 3 runs at 1,000 and 10,000 accounts, one at 100,000.

Each run writes a fresh book in a temp dir and includes the health scoring and the 12 months
of health history (when the scoring engine is present). Prints, per size: rows written, time to
write the raw data, time to score, and the total.

    python3 bench/bench_demo.py            # 1k ×3, 10k ×3, 100k ×1
    python3 bench/bench_demo.py --quick    # 1k ×3 only
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("CSM_TODAY", "2026-11-23")


def one_run(accounts: int, workdir: Path) -> tuple[float, float, int]:
    """(seconds until the raw data was written, total seconds, rows written) for one book."""
    from csm_tui.service.demo_book import create_demo_book
    from csm_tui.storage.db import open_book

    path = workdir / f"demo-{accounts}-{time.monotonic_ns()}.db"
    marks: list[tuple[int, float]] = []
    book = open_book(path)
    started = time.perf_counter()
    try:
        summary = create_demo_book(
            book,
            accounts=accounts,
            progress=lambda done, total: marks.append((done, time.perf_counter())),
        )
    finally:
        book.close()
    total = time.perf_counter() - started
    rows = sum(summary.rows.values())
    data_done = next((t for done, t in marks if done >= rows), started + total) - started
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return data_done, total, rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the 1,000-account size")
    args = parser.parse_args()
    plan = [(1_000, 3)] if args.quick else [(1_000, 3), (10_000, 3), (100_000, 1)]
    print(f"csm demo benchmark ({os.cpu_count()} CPUs, today={os.environ['CSM_TODAY']})")
    print(
        f"{'accounts':>9} {'runs':>4} {'rows':>10} {'data s':>8} {'scoring s':>10} {'total s':>8}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for accounts, runs in plan:
            results = [one_run(accounts, Path(tmp)) for _ in range(runs)]
            data = statistics.median(r[0] for r in results)
            total = statistics.median(r[1] for r in results)
            print(
                f"{accounts:>9,} {runs:>4} {results[0][2]:>10,} {data:>8.2f} "
                f"{total - data:>10.2f} {total:>8.2f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
