"""Speed of the portfolio metrics, trends, lists and reports on demo books of several sizes.

    python3 bench/bench_metrics.py [--sizes 1000,10000,100000] [--repeat 3]

Books come from the demo generator without the scoring pass, plus a synthetic
monthly health history (one snapshot per account per month for a year) so the trend and
health-at-renewal queries have the volume a scored book has. Prints the median of
`--repeat` runs of each operation, with the book size named.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

os.environ.setdefault("CSM_TODAY", "2026-11-23")

from csm_tui.reports.portfolio import portfolio_markdown  # noqa: E402
from csm_tui.reports.qbr import qbr_markdown  # noqa: E402
from csm_tui.scoring.lists import open_list  # noqa: E402
from csm_tui.scoring.metrics import compute_metrics, monthly_trends  # noqa: E402
from csm_tui.scoring.periods import parse_period  # noqa: E402
from csm_tui.storage.db import open_book  # noqa: E402
from csm_tui.storage.demo import generate_demo  # noqa: E402

TODAY = date(2026, 11, 23)

HISTORY_SQL = """
WITH RECURSIVE months(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM months WHERE k < 11)
INSERT OR IGNORE INTO health (account_id, date, score, band)
SELECT a.id, date('2026-11-23', '-' || (30 * k) || ' days'),
       (abs(random()) % 100),
       CASE WHEN abs(random()) % 100 >= 75 THEN 'green'
            WHEN abs(random()) % 100 >= 50 THEN 'yellow' ELSE 'red' END
FROM accounts a, months
"""


def build(path: Path, accounts: int) -> None:
    """A demo book of `accounts` accounts with a year of monthly health snapshots."""
    book = open_book(path)
    generate_demo(book, accounts=accounts, today=TODAY)
    with book.write(durable=False) as conn:
        conn.execute(HISTORY_SQL)
        conn.execute("UPDATE accounts SET health_band = 'green'")
        conn.execute("UPDATE account_health SET health_score = 60 + abs(random()) % 40")
    book.close()


def median_seconds(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """The median wall time and the median CPU time of `repeat` calls (CPU time shows the
    cost when other processes share the machine)."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def bench(accounts: int, repeat: int) -> None:
    """Print the medians for one book size."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        started = time.perf_counter()
        build(path, accounts)
        print(f"\n{accounts:,} accounts (book built in {time.perf_counter() - started:.1f} s)")
        book = open_book(path)
        aid = book.scalar("SELECT id FROM accounts LIMIT 1")
        quarter, year = parse_period("2026-Q3"), parse_period("2026")
        cases = {
            "all metrics, one quarter": lambda: compute_metrics(book, quarter, TODAY),
            "all metrics, one year": lambda: compute_metrics(book, year, TODAY),
            "12-month trends": lambda: monthly_trends(book, 12, TODAY),
            "expansion candidates list": lambda: open_list(book, "expansion", today=TODAY),
            "accounts behind retention": lambda: open_list(
                book, "metric:retention", quarter, TODAY
            ),
            "QBR of one account": lambda: qbr_markdown(book, aid, TODAY),
            "portfolio report, one quarter": lambda: portfolio_markdown(book, quarter, TODAY),
        }
        for name, fn in cases.items():
            wall, cpu = median_seconds(fn, repeat)
            print(f"  {name:<32} median {wall * 1000:9.1f} ms wall, {cpu * 1000:9.1f} ms CPU")
        book.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        bench(size, args.repeat)


if __name__ == "__main__":
    main()
