"""The header every screen shows: the book's name and its headline counts, kept current.

It watches the app's `book_summary` (a `csm_tui.service.portfolio.BookSummary`), which the
app refreshes after every change to the book, so every screen's header agrees.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class BookHeader(Static):
    """`csm · Demo book — Alex Morgan   1,000 accounts · 37 open alerts · 84 renewals ≤ 90 d`."""

    DEFAULT_CSS = """
    BookHeader { dock: top; height: 1; background: $primary; color: $text; padding: 0 1; }
    """

    def __init__(self, title: str = "") -> None:
        super().__init__("")
        self.screen_title = title

    def on_mount(self) -> None:
        self.summary = None
        if hasattr(self.app, "book_summary"):
            self.watch(self.app, "book_summary", self._show, init=True)

    def on_resize(self) -> None:
        self._show(getattr(self, "summary", None))

    def _show(self, summary) -> None:
        self.summary = summary
        text = Text.assemble(("csm", "bold"), " · ", (self.screen_title, "bold"))
        if summary is not None:
            counts = (
                f"{summary.accounts:,} accounts · {summary.open_alerts:,} open alerts · "
                f"{summary.renewals_90:,} renewals ≤ 90 d"
            )
            if len(text) + len(summary.name) + len(counts) + 6 > self.size.width:
                counts = (
                    f"{summary.accounts:,} acc · {summary.open_alerts:,} alerts · "
                    f"{summary.renewals_90:,} renew ≤90d"
                )
            if len(text) + len(summary.name) + len(counts) + 6 > self.size.width:
                text.append("  ")  # too narrow for the book's name: the counts matter more
            else:
                text.append(f"  {summary.name}   ")
            text.append(counts, style="italic")
        self.update(text)
