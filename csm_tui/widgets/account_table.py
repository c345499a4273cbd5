"""AccountTable: a virtual table of accounts that holds only the rows near the viewport.

It never queries anything itself. It knows the total (when known), keeps a cache of rows by
position, and when the viewport shows positions it has not got, it posts `WindowNeeded`; its
screen fetches that window in a worker and hands it back with `set_window`. Each new query
is a new *generation*: windows of an older one are ignored, and the old rows stay on screen
until the first window of the new one arrives (no blank flicker while sorting or filtering).
Rendering uses the Line API (`render_line`), so a million rows cost what 40 rows cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from csm_tui.clock import today
from csm_tui.service.portfolio import PortfolioRow
from csm_tui.widgets.health_bar import health_cell

#: Rows fetched beyond the viewport on each side, so a page-down is usually already loaded.
PREFETCH_PAGES = 1


@dataclass(frozen=True)
class Column:
    """One column: its sort key, title, width (0 = takes the remaining space), alignment."""

    key: str
    title: str
    width: int
    align: str = "left"
    optional: int = 0  # dropped first on narrow terminals (higher = dropped earlier)


COLUMNS = (
    Column("name", "Account", 0),
    Column("tier", "Tier", 9, optional=3),
    Column("owner", "Owner", 13, optional=4),
    Column("arr", "ARR", 9, "right"),
    Column("health", "Health", 13),
    Column("churn", "Risk", 5, "right", optional=1),
    Column("renewal", "Renewal", 10, optional=2),
    Column("days", "Days", 5, "right"),
    Column("touch", "Touch", 6, "right", optional=5),
)
NAME_MIN = 16


def layout(width: int) -> list[tuple[Column, int]]:
    """The columns that fit in `width` cells, with their widths (the name takes the rest)."""
    columns = list(COLUMNS)
    drop_order = sorted((c for c in columns if c.optional), key=lambda c: -c.optional)
    while sum(c.width + 1 for c in columns) + NAME_MIN > width and drop_order:
        columns.remove(drop_order.pop(0))
    fixed = sum(c.width + 1 for c in columns if c.width)
    return [(c, c.width or max(NAME_MIN, width - fixed - 1)) for c in columns]


def money(value: float) -> str:
    """ARR compactly: $950, $48.2k, $1.25M."""
    if value >= 1_000_000:
        return f"${value / 1_000_000:.2f}M"
    if value >= 10_000:
        return f"${value / 1_000:.0f}k"
    if value >= 1_000:
        return f"${value / 1_000:.1f}k"
    return f"${value:.0f}"


def cell(row: PortfolioRow, key: str, width: int) -> Text:
    """The text of one cell of one row."""
    if key == "health":
        return health_cell(row.health_score, row.health_band, row.health_delta_7, width - 5)
    if key == "days":
        days = row.days_left
        style = "bold red" if days is not None and days <= 30 else ""
        return Text("–" if days is None else f"{days}", style=style)
    if key == "churn":
        if row.churn_prob is None:
            return Text("–", style="dim")
        style = "red" if row.churn_prob >= 0.5 else "yellow" if row.churn_prob >= 0.25 else ""
        return Text(f"{row.churn_prob:.0%}", style=style)
    if key == "touch":
        return Text(_days_since(row.last_touch_at), style="")
    value = {
        "name": row.name,
        "tier": row.tier or "–",
        "owner": row.owner or "–",
        "arr": money(row.arr),
        "renewal": row.renewal_date or "–",
    }[key]
    return Text(value, style="dim" if row.status != "active" else "")


def _days_since(timestamp: str | None) -> str:
    if not timestamp:
        return "never"
    try:
        return f"{(today() - date.fromisoformat(timestamp[:10])).days}d"
    except ValueError:
        return "?"


class AccountTable(ScrollView, can_focus=True):
    """The portfolio's rows, fetched a window at a time by the owning screen."""

    BINDINGS = [
        Binding("down,j", "cursor(1)", "Down", show=False, id="table.down"),
        Binding("up,k", "cursor(-1)", "Up", show=False, id="table.up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="table.page_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="table.page_up"),
        Binding("home,g", "jump(0)", "First", show=False, id="table.first"),
        Binding("end,G", "jump(-1)", "Last", show=False, id="table.last"),
        Binding("enter", "open", "Open account", id="table.open"),
    ]
    COMPONENT_CLASSES = {"account-table--header", "account-table--cursor"}
    DEFAULT_CSS = """
    AccountTable { height: 1fr; scrollbar-size-horizontal: 0; }
    AccountTable > .account-table--header { text-style: bold; background: $panel; }
    AccountTable > .account-table--cursor { background: $accent 40%; }
    AccountTable:focus > .account-table--cursor { background: $accent; }
    """

    cursor = reactive(0, always_update=True)

    class WindowNeeded(Message):
        """The viewport shows positions whose rows are not loaded: fetch this window."""

        def __init__(self, generation: int, offset: int, limit: int) -> None:
            super().__init__()
            self.generation, self.offset, self.limit = generation, offset, limit

    class Opened(Message):
        """Enter on a row: open this account."""

        def __init__(self, account_id: str) -> None:
            super().__init__()
            self.account_id = account_id

    class HeaderClicked(Message):
        """A click on a column title: sort by it."""

        def __init__(self, column: str) -> None:
            super().__init__()
            self.column = column

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's keyword
        super().__init__(id=id)
        self.generation = 0
        self.total: int | None = None
        self.sort_key = "priority"
        self.sort_descending = False
        self._rows: dict[int, PortfolioRow] = {}
        self._loaded_end = 0
        self._pending: set[tuple[int, int, int]] = set()
        self._fresh = True  # the first window of a generation replaces the old rows
        self._lines: dict[tuple, Strip] = {}  # rendered rows: drawing is the costly part

    # -- data in ---------------------------------------------------------------------------------
    def begin(self, keep_position: bool = True) -> int:
        """Start a new generation (new query/sort/data); returns its number for the fetches.

        A new filter or order starts at the top (`keep_position=False`); a refresh of the same
        query keeps the cursor where the user left it."""
        self.generation += 1
        self.total = None
        self._pending.clear()
        self._fresh = True
        if not keep_position:
            self.cursor = 0
            self.scroll_to(y=0, animate=False, immediate=True)
        self._request_visible()  # at once: rows are the answer the user waits for
        self.call_after_refresh(self._request_visible)  # and again if the size changed
        return self.generation

    def set_window(self, generation: int, offset: int, limit: int, rows: list) -> None:
        """Rows fetched for `generation` at `offset` (fewer than `limit` = the end)."""
        self._pending.discard((generation, offset, limit))
        if generation != self.generation:
            return
        if self._fresh:
            self._rows, self._loaded_end, self._fresh = {}, 0, False
            self._lines.clear()
            self.cursor = min(self.cursor, max(0, offset + len(rows) - 1)) if rows else 0
        for index, row in enumerate(rows, start=offset):
            self._rows[index] = row
        self._loaded_end = max(self._loaded_end, offset + len(rows))
        if len(rows) < limit and self.total is None:
            self.total = offset + len(rows)
        self._resize()

    def set_total(self, generation: int, total: int) -> None:
        """The exact row count of `generation` (counted in its own worker)."""
        if generation == self.generation:
            self.total = total
            self._resize()

    @property
    def row_count(self) -> int:
        """Rows known to exist (the exact total once counted)."""
        return self.total if self.total is not None else self._loaded_end

    @property
    def current(self) -> PortfolioRow | None:
        """The row under the cursor, if loaded."""
        return self._rows.get(self.cursor)

    def loaded_rows(self) -> list[PortfolioRow]:
        """The rows currently held, in order (for tests and the screen's status line)."""
        return [self._rows[i] for i in sorted(self._rows)]

    # -- sizing and fetching ----------------------------------------------------------------------
    def _resize(self) -> None:
        known = self.row_count
        if self.total is None:
            known += self.size.height  # more may follow: let the user scroll into it
        self.virtual_size = Size(self.size.width, known + 1)
        self.cursor = max(0, min(self.cursor, max(0, self.row_count - 1)))
        self.refresh()
        self._request_visible()
        self.call_after_refresh(self._request_visible)  # again once the scroll is clamped

    def on_resize(self, event: events.Resize) -> None:
        self._resize()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._request_visible()

    def _request_visible(self) -> None:
        page = max(1, self.size.height - 1)
        top = int(self.scroll_y)
        start = max(0, top - PREFETCH_PAGES * page)
        end = top + (1 + PREFETCH_PAGES) * page
        if self.total is not None:
            end = min(end, self.total)
        if all(i in self._rows for i in range(top, min(end, top + page))) and not self._fresh:
            return
        key = (self.generation, start, end - start)
        if end > start and key not in self._pending:
            self._pending.add(key)
            self.post_message(self.WindowNeeded(*key))

    # -- keys ----------------------------------------------------------------------------------
    def action_cursor(self, step: int) -> None:
        """Move the cursor by `step` rows."""
        self._move_to(self.cursor + step)

    def action_page(self, pages: int) -> None:
        """Move the cursor (and the view) by a page."""
        self._move_to(self.cursor + pages * max(1, self.size.height - 2))

    def action_jump(self, where: int) -> None:
        """First row (0) or last known row (-1)."""
        self._move_to(0 if where == 0 else self.row_count - 1)

    def action_open(self) -> None:
        """Open the account under the cursor."""
        if self.current is not None:
            self.post_message(self.Opened(self.current.id))

    def _move_to(self, index: int) -> None:
        self.cursor = max(0, min(index, max(0, self.row_count - 1)))
        visible = max(1, self.size.height - 1)
        if self.cursor < self.scroll_y:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= self.scroll_y + visible:
            self.scroll_to(y=self.cursor - visible + 1, animate=False)
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            column = self._column_at(event.x)
            if column:
                self.post_message(self.HeaderClicked(column))
            return
        index = int(self.scroll_y) + event.y - 1
        if index in self._rows:
            if index == self.cursor and event.chain >= 2:
                self.action_open()
            self._move_to(index)

    def _column_at(self, x: int) -> str | None:
        start = 0
        for column, width in layout(self._width):
            if start <= x < start + width + 1:
                return None if column.key == "days" else column.key
            start += width + 1
        return None

    # -- drawing -------------------------------------------------------------------------------
    @property
    def _width(self) -> int:
        return self.scrollable_content_region.width  # without the scrollbar

    def render_line(self, y: int) -> Strip:
        width = self._width
        base = self.rich_style
        if y == 0:
            return self._strip(self._header_text(width), width, base, "account-table--header")
        index = int(self.scroll_y) + y - 1
        row = self._rows.get(index)
        if row is None:
            text = Text("…" if index < self.row_count else "", style="dim")
            return self._strip(text, width, base)
        key = (self.generation, index, width, index == self.cursor, base, self.has_focus)
        strip = self._lines.get(key)
        if strip is None:
            if len(self._lines) > 4_000:
                self._lines.clear()
            style_class = "account-table--cursor" if index == self.cursor else None
            strip = self._strip(self._row_text(row, width), width, base, style_class)
            self._lines[key] = strip
        return strip

    def _strip(self, text: Text, width: int, base: Style, component: str | None = None) -> Strip:
        style = base + self.get_component_rich_style(component) if component else base
        segments = [
            Segment(s.text, style + s.style if s.style else style)
            for s in text.render(self.app.console)
            if s.text != "\n"
        ]
        return Strip(segments).crop_extend(0, width, style)

    def _header_text(self, width: int) -> Text:
        out = Text(no_wrap=True)
        for column, col_width in layout(width):
            title = column.title
            if column.key == self.sort_key or (column.key == "days" and self.sort_key == "renewal"):
                title += " ▼" if self.sort_descending else " ▲"
            out.append_text(_fit(Text(title), col_width, column.align))
            out.append(" ")
        return out

    def _row_text(self, row: PortfolioRow, width: int) -> Text:
        out = Text(no_wrap=True)
        for column, col_width in layout(width):
            out.append_text(_fit(cell(row, column.key, col_width), col_width, column.align))
            out.append(" ")
        return out


def _fit(text: Text, width: int, align: str) -> Text:
    """Pad or truncate (with …) to exactly `width` cells."""
    text = text.copy()
    if text.cell_len > width:
        text.truncate(width, overflow="ellipsis")
    pad = width - text.cell_len
    if align == "right":
        return Text.assemble(" " * pad, text)
    text.append(" " * pad)
    return text
