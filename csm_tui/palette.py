"""The command palette's quick actions (SPEC, seed 004), customer names fuzzy-matched.

Book-wide actions ("Show red/yellow accounts") are always offered; per-account actions
("Show health score for <account>") are offered for the accounts whose names match the
words typed (found through the trigram index in a thread, so a million-account book is as
quick as a small one), each hit scored by Textual's fuzzy matcher.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from csm_tui.service.portfolio import PortfolioQuery, find_accounts

#: How many matching accounts the palette considers per query.
ACCOUNT_HITS = 8


@dataclass(frozen=True)
class BookAction:
    """A quick action on the whole book."""

    text: str
    help: str
    run: Callable[[object], None]


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _portfolio(query: PortfolioQuery) -> Callable[[object], None]:
    return lambda app: app.show_portfolio(query)


def _mode_or(mode: str, module: str, fallback: PortfolioQuery) -> Callable[[object], None]:
    """Open another screen when it exists, else the portfolio filtered to the same accounts."""

    def run(app) -> None:
        if _has(module) and mode in app._modes:
            app.switch_mode(mode)
        else:
            app.show_portfolio(fallback)

    return run


def book_actions() -> list[BookAction]:
    """The book-wide quick actions."""
    by_renewal = PortfolioQuery(renewing_within=90, sort="renewal")
    actions = [
        BookAction(
            "Show red/yellow accounts",
            "Portfolio filtered to red and yellow health",
            _portfolio(PortfolioQuery(bands=frozenset({"red", "yellow"}))),
        ),
        BookAction(
            "Identify expansion candidates",
            "Green, adoption above segment average, NPS ≥ 8, sponsor in place",
            _portfolio(PortfolioQuery(expansion=True, sort="arr", descending=True)),
        ),
        BookAction(
            "Review onboarding pipeline",
            "Accounts in the onboarding stage",
            _portfolio(PortfolioQuery(stage="onboarding", sort="renewal")),
        ),
        BookAction(
            "Show renewals next 90 days",
            "Renewals timeline (or the portfolio by date)",
            _mode_or("renewals", "csm_tui.screens.renewals", by_renewal),
        ),
        BookAction(
            "Find customers for a case study",
            "Green accounts with a 9–10 NPS",
            _portfolio(PortfolioQuery(advocates=True, sort="arr", descending=True)),
        ),
    ]
    actions += [
        BookAction(
            "Rescore the whole book now",
            "Recompute every health score, risk and alert in the background (ctrl+r)",
            lambda app: app.action_rescore(),
        ),
        BookAction(
            "Import a file…",
            "Accounts, contacts, usage, tickets, NPS… from CSV/JSON; all rows or none (ctrl+o)",
            lambda app: app.action_import_file(),
        ),
    ]
    if _has("csm_tui.screens.dashboard"):
        actions.append(
            BookAction(
                "Show NPS by segment",
                "The dashboard's NPS by segment",
                lambda app: app.switch_mode("dashboard"),
            )
        )
    return actions


def account_actions() -> list[tuple[str, str, Callable[[object, str, str], None]]]:
    """(verb, help, run(app, account_id, name)) for each per-account quick action."""
    actions = [
        (
            "Show health score for",
            "Open the account: gauge, movers, trend",
            lambda app, aid, name: app.open_account(aid),
        ),
        (
            "Analyse usage for",
            "Open the account at its usage trend",
            lambda app, aid, name: app.open_account(aid, section="usage"),
        ),
    ]
    if _has("csm_tui.screens.save_plan"):
        actions.append(
            ("Create save plan for", "Start a save plan, prefilled from the data", _start_save_plan)
        )
    if _has("csm_tui.reports.qbr"):
        actions.append(("Plan QBR for", "Write the QBR review (Markdown) from the data", _plan_qbr))
    return actions


def _start_save_plan(app, account_id: str, name: str) -> None:
    from csm_tui.screens.save_plan import SavePlanForm

    app.open_account(account_id)
    app.push_screen(SavePlanForm(account_id))


def _plan_qbr(app, account_id: str, name: str) -> None:
    app.write_qbr(account_id, name)


class QuickActions(Provider):
    """csm's quick actions for the command palette."""

    async def discover(self) -> Hits:
        """Shown before anything is typed: the book-wide actions."""
        for action in book_actions():
            yield DiscoveryHit(action.text, partial(action.run, self.app), help=action.help)

    async def search(self, query: str) -> Hits:
        """Book-wide actions matching `query`, and per-account actions for matching names."""
        matcher = self.matcher(query)
        for action in book_actions():
            score = matcher.match(action.text)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(action.text),
                    partial(action.run, self.app),
                    help=action.help,
                )
        for hit in await self._accounts(query):
            for verb, help_text, run in account_actions():
                text = f"{verb} {hit.name}"
                score = matcher.match(text)
                if score > 0:
                    yield Hit(
                        score,
                        matcher.highlight(text),
                        partial(run, self.app, hit.id, hit.name),
                        help=help_text,
                    )

    async def _accounts(self, query: str) -> list:
        """Accounts named like the longest words typed (verbs such as "show" drop out)."""
        words = [w for w in query.split() if len(w) >= 3 and w.lower() not in _VERB_WORDS]
        if not words:
            return []
        session = getattr(self.app, "session", None)
        if session is None:
            return []
        found: dict[str, object] = {}
        for word in sorted(words, key=len, reverse=True)[:2]:
            hits = await asyncio.to_thread(find_accounts, session.reader, word, ACCOUNT_HITS)
            found.update({h.id: h for h in hits})
        return list(found.values())


_VERB_WORDS = {
    "show",
    "health",
    "score",
    "for",
    "create",
    "save",
    "plan",
    "qbr",
    "analyse",
    "analyze",
    "usage",
}
