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
        if hasattr(self.app, "book_summary"):
            self.watch(self.app, "book_summary", self._show, init=True)

    def _show(self, summary) -> None:
        text = Text.assemble(("csm", "bold"), " · ", (self.screen_title, "bold"))
        if summary is not None:
            text.append(f"  {summary.name}   ")
            text.append(
                f"{summary.accounts:,} accounts · {summary.open_alerts:,} open alerts · "
                f"{summary.renewals_90:,} renewals ≤ 90 d",
                style="italic",
            )
        self.update(text)
