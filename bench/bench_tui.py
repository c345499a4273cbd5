# ruff: noqa: E402  (the start-up clock is read before the other imports)
"""Portfolio speed at 1k, 100k and 1M accounts, measured on the real app, headless.

    python3 bench/bench_tui.py                 # 1k, 100k, 1M (builds cached books first)
    python3 bench/bench_tui.py --sizes 1000 100000

For each size, in a fresh process: time to the first frame with rows visible (from creating
CsmApp, and end to end from process start), then medians of page-down, sort and filter
keystroke latency (key press → the new rows are on screen). A bare Textual app's first frame
is measured in the same run for comparison. Books: 1k is the demo book; larger ones
are a fast synthetic accounts-only book (scores, bands, renewals; the FTS index filled by the
schema's triggers), cached under bench/out/.
"""

from __future__ import annotations

import time

PROCESS_START = time.perf_counter()  # first thing: the end-to-end start-up figure counts from here

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
TODAY = date(2026, 11, 23)
REPEATS = 9
FILTER_TYPED = ("n", "no", "nor", "nort", "north", "northw", "northwi", "northwin", "northwind")
WORDS = (
    "North",
    "Blue",
    "Cedar",
    "Iron",
    "Summit",
    "Lake",
    "Harbor",
    "Maple",
    "Stone",
    "Gold",
    "wind",
    "peak",
    "ridge",
    "clad",
    "view",
    "field",
    "crest",
    "gate",
    "line",
    "works",
)
KINDS = ("Logistics", "Health", "Retail", "Software", "Foods", "Energy", "Media", "Labs")


# -- books ---------------------------------------------------------------------------------------
def book_path(size: int) -> Path:
    """The cached bench book of `size` accounts (built on first use)."""
    path = OUT / f"tui-{size}.db"
    if not path.exists():
        started = time.perf_counter()
        (build_demo if size <= 10_000 else build_synthetic)(path, size)
        print(f"  built {path.name} in {time.perf_counter() - started:.1f} s", flush=True)
    return path


def build_demo(path: Path, size: int) -> None:
    """Engineer B's demo book (scored by the engine)."""
    from csm_tui.service.demo_book import create_demo_book
    from csm_tui.storage.db import open_book

    book = open_book(path)
    create_demo_book(book, accounts=size, seed=11, today=TODAY)
    book.close()


def _synthetic_rows(size: int, rng: random.Random):
    bands = ("red", "yellow", "green", "green", "green", "insufficient")
    for i in range(size):
        band = rng.choice(bands)
        score = (
            None
            if band == "insufficient"
            else {"red": rng.uniform(10, 49), "yellow": rng.uniform(50, 74)}.get(
                band, rng.uniform(75, 99)
            )
        )
        name = f"{rng.choice(WORDS)}{rng.choice(WORDS).lower()} {rng.choice(KINDS)} {i}"
        yield (
            f"B{i:07d}",
            name,
            rng.choice(("Strategic", "Core", "Scale")),
            rng.choice(("Alex Morgan", "Sam Lee", "Priya Shah")),
            round(rng.uniform(1, 500), 2) * 1000,
            "active",
            (TODAY + timedelta(days=rng.randint(0, 365))).isoformat(),
            score,
            band,
            round(rng.uniform(-15, 15), 1),
            round(rng.random(), 3),
            (TODAY - timedelta(days=rng.randint(0, 120))).isoformat() + "T10:00:00",
        )


def build_synthetic(path: Path, size: int) -> None:
    """Accounts only, written in one transaction (the FTS triggers index every name)."""
    from csm_tui.storage.db import open_book

    book = open_book(path)
    sql = (
        "INSERT INTO accounts (id, name, tier, owner, arr, status, renewal_date, "
        "health_band, churn_prob, last_touch_at) VALUES (?,?,?,?,?,?,?,?,?,?)"
    )
    # the health score and its change live in `account_health` (its row made by a trigger)
    health = (
        "UPDATE account_health SET health_score = ?, health_delta_7 = ? "
        "WHERE account_rowid = (SELECT rowid FROM accounts WHERE id = ?)"
    )
    rows = _synthetic_rows(size, random.Random(5))
    with book.write(durable=False) as conn:
        while batch := [row for _, row in zip(range(50_000), rows, strict=False)]:
            conn.executemany(sql, [(*r[:7], r[8], *r[10:]) for r in batch])
            conn.executemany(health, [(r[7], r[9], r[0]) for r in batch])
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('book_name', ?)", (f"Bench {size:,}",))
    book.conn.execute("ANALYZE")
    book.close()


# -- measuring (runs in a child process per size) ------------------------------------------------
async def _until(pilot, condition, timeout: float = 60.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the app did not get there")
        await asyncio.sleep(0.001)


def _instrument() -> None:
    """Record when the table last drew a row, and for which state: that is when the user
    sees the answer (waiting for the app to be idle would also wait for the count)."""
    from csm_tui.widgets.account_table import AccountTable

    draw = AccountTable.render_line

    def render_line(self, y: int):
        strip = draw(self, y)
        state = (self.generation, int(self.scroll_y), self.cursor)
        painted = getattr(self, "painted", None)
        fresh = painted is None or painted[:3] != state  # keep the first paint of a state
        if y > 0 and not self._fresh and (int(self.scroll_y) + y - 1) in self._rows and fresh:
            self.painted = (*state, time.perf_counter())
        return strip

    AccountTable.render_line = render_line


async def _painted(table, since: float, condition=lambda: True) -> float:
    """ms from `since` until the table has drawn the visible rows of its current state."""

    def shown() -> bool:
        state = getattr(table, "painted", None)
        return (
            condition()
            and _visible_loaded(table)
            and state is not None
            and state[:3] == (table.generation, int(table.scroll_y), table.cursor)
            and state[3] >= since
        )

    await _until(None, shown)
    return (table.painted[3] - since) * 1000


def _visible_loaded(table) -> bool:
    top = int(table.scroll_y)
    rows = range(top, min(top + table.size.height - 1, table.row_count))
    return not table._fresh and bool(table._rows) and all(i in table._rows for i in rows)


def _table(app):
    from csm_tui.widgets.account_table import AccountTable

    found = app.screen.query(AccountTable)
    return found.first() if found else None


async def _first_frame(app, since: float) -> float:
    await _until(None, lambda: _table(app) is not None)
    return await _painted(_table(app), since)


async def _measure_app(path: Path) -> dict:
    from csm_tui.app import CsmApp

    _instrument()
    started = time.perf_counter()
    app = CsmApp(db_path=path)
    out: dict = {}
    async with app.run_test(size=(120, 40)) as pilot:
        out["first_frame_ms"] = await _first_frame(app, started)
        table = _table(app)
        await _until(pilot, lambda: table.total is not None)
        out["count_ms"] = (time.perf_counter() - started) * 1000
        out["page_down_ms"] = await _keys(pilot, table, ["pagedown"] * REPEATS)
        out["sort_ms"] = await _keys(pilot, table, ["s"] * REPEATS)
        await pilot.press("escape")
        out["filter_key_ms"] = await _filter(pilot, table)
    return out


async def _keys(pilot, table, keys: list[str]) -> float:
    times = []
    for key in keys:
        await pilot.pause(0.2)  # let the previous answer's count finish: one change at a time
        started = time.perf_counter()
        await pilot.press(key)
        times.append(await _painted(table, started))
    return statistics.median(times)


async def _filter(pilot, table) -> float:
    """Type a name fragment key by key; each keystroke → its filtered rows on screen."""
    await pilot.press("slash")
    times = []
    for text in FILTER_TYPED:
        await pilot.pause(0.2)
        started = time.perf_counter()
        await pilot.press(text[-1])
        screen = pilot.app.screen
        typed = lambda s=screen, t=text: s.portfolio_query.text == t  # noqa: E731
        times.append(await _painted(table, started, typed))
    print(
        " ".join(f"{t}:{ms:.0f}" for t, ms in zip(FILTER_TYPED, times, strict=True)),
        file=sys.stderr,
    )
    return statistics.median(times)


async def _measure_bare() -> float:
    from rich.text import Text
    from textual.app import App
    from textual.widget import Widget

    drawn = BARE_DRAWN

    class Hello(Widget):
        def render(self) -> Text:
            drawn.append(time.perf_counter())
            return Text("hello")

    class Bare(App):
        def compose(self):
            yield Hello()

    started = time.perf_counter()
    async with Bare().run_test(size=(120, 40)):
        await _until(None, lambda: bool(drawn))
    return (drawn[0] - started) * 1000


def child(path: str) -> None:
    """Measure one book; print JSON."""
    os.environ.setdefault("CSM_TODAY", TODAY.isoformat())
    result = asyncio.run(_measure_app(Path(path)))
    result["bare_first_frame_ms"] = asyncio.run(_measure_bare())
    print(json.dumps(result))


BARE_DRAWN: list[float] = []


def end_to_end(path: Path | None) -> float:
    """Process start → first frame with rows (interpreter, imports, app) in a subprocess;
    `None`: the same for a bare Textual app showing one line."""
    args = ["--first-frame", str(path)] if path else ["--bare-first-frame"]
    run = subprocess.run(
        [sys.executable, __file__, *args],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "CSM_TODAY": TODAY.isoformat()},
    )
    return float(run.stdout.strip().splitlines()[-1])


def first_frame_only(path: str) -> None:
    """Print ms from this process's start to the portfolio's first rows on screen."""

    async def run() -> None:
        from csm_tui.app import CsmApp

        _instrument()
        app = CsmApp(db_path=Path(path))
        async with app.run_test(size=(120, 40)):
            print(await _first_frame(app, PROCESS_START))

    asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000, 1_000_000])
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"csm portfolio bench (headless, 120×40; medians of {REPEATS} key presses)")
    for size in args.sizes:
        path = book_path(size)
        run = subprocess.run(
            [sys.executable, __file__, "--child", str(path)],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        r = json.loads(run.stdout.strip().splitlines()[-1])
        wall = statistics.median(end_to_end(path) for _ in range(3))
        bare_wall = statistics.median(end_to_end(None) for _ in range(3))
        print(
            f"{size:>9,} accounts: first frame with rows {r['first_frame_ms']:6.0f} ms "
            f"after start-up (bare Textual app {r['bare_first_frame_ms']:3.0f} ms); process start → "
            f"rows {wall:5.0f} ms (bare Textual app {bare_wall:4.0f} ms) · exact count shown at {r['count_ms']:6.0f} ms · page-down "
            f"{r['page_down_ms']:5.1f} ms · sort {r['sort_ms']:6.1f} ms · filter keystroke "
            f"{r['filter_key_ms']:6.1f} ms (incl. 40 ms debounce)",
            flush=True,
        )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "--first-frame":
        first_frame_only(sys.argv[2])
    elif len(sys.argv) == 2 and sys.argv[1] == "--bare-first-frame":
        asyncio.run(_measure_bare())
        print((BARE_DRAWN[0] - PROCESS_START) * 1000)
    else:
        main()
