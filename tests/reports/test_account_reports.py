"""QBR and success-plan Markdown: the account's real figures, and never a placeholder."""

from __future__ import annotations

import re

import pytest

from csm_tui.errors import NotFound
from csm_tui.reports.markdown import money
from csm_tui.reports.qbr import qbr_markdown
from csm_tui.reports.success_plan import success_plan_markdown
from csm_tui.storage.history import latest_snapshot
from tests.metrics.builder import add_account

#: "[Date]", "{CUSTOMER}", "TODO", "None", "nan": what an unfilled template leaves behind.
PLACEHOLDER = re.compile(r"\bNone\b|\bnan\b|\bNaN\b|TODO|\[[A-Z][A-Za-z ,]*\]|\{[A-Z_]+\}")


def _figure(value: float) -> str:
    return f"{value:,.0f}"


def _unplaceholdered(markdown: str) -> None:
    found = PLACEHOLDER.findall(markdown)
    assert not found, f"unfilled placeholders: {found}"


def _account_with_objectives(book) -> str:
    return book.scalar(
        "SELECT a.id FROM accounts a JOIN objectives o ON o.account_id = a.id "
        "JOIN usage u ON u.account_id = a.id WHERE a.status = 'active' "
        "ORDER BY a.id LIMIT 1"
    )


def test_qbr_contains_the_accounts_real_figures(demo_book) -> None:
    aid = _account_with_objectives(demo_book)
    account = demo_book.query("SELECT * FROM scored_accounts WHERE id = ?", (aid,))[0]
    usage = demo_book.query(
        "SELECT * FROM usage WHERE account_id = ? ORDER BY date DESC LIMIT 1", (aid,)
    )[0]
    with demo_book.read() as conn:
        health = latest_snapshot(conn, aid)
    text = qbr_markdown(demo_book, aid)
    assert text.startswith(f"# Quarterly Business Review: {account['name']} - Q4 2026")
    assert f"ARR {money(account['arr'])}" in text
    assert f"{_figure(account['health_score'])}/100 ({account['health_band']})" in text
    assert f"{usage['active_users']}/{usage['seats']} active users" in text
    assert f"{usage['features_used']}/{usage['features_total']} core features" in text
    for part, label in (("usage", "Usage"), ("engagement", "Engagement")):
        if health[part] is not None:
            assert (
                f"- {label} ({'40' if part == 'usage' else '30'}%): {_figure(health[part])}/100"
                in text
            )
    for objective in demo_book.query("SELECT * FROM objectives WHERE account_id = ?", (aid,)):
        assert "### Objective" in text and objective["title"] in text
    for alert in demo_book.query(
        "SELECT reason FROM alerts WHERE account_id = ? AND status != 'done'", (aid,)
    ):
        assert alert["reason"] in text
    _unplaceholdered(text)


def test_every_demo_account_report_is_free_of_placeholders(demo_book) -> None:
    for (aid,) in demo_book.query("SELECT id FROM accounts ORDER BY id"):
        _unplaceholdered(qbr_markdown(demo_book, aid))
        _unplaceholdered(success_plan_markdown(demo_book, aid))


def test_success_plan_lists_objectives_stakeholders_and_risks(demo_book) -> None:
    aid = _account_with_objectives(demo_book)
    text = success_plan_markdown(demo_book, aid)
    name = demo_book.scalar("SELECT name FROM accounts WHERE id = ?", (aid,))
    assert text.startswith(f"# Customer Success Plan: {name}")
    for contact in demo_book.query("SELECT name FROM contacts WHERE account_id = ?", (aid,)):
        assert f"| {contact['name']} |" in text
    for objective in demo_book.query("SELECT * FROM objectives WHERE account_id = ?", (aid,)):
        assert f"**Objective**: {objective['title']}" in text
    sponsor = demo_book.scalar(
        "SELECT name FROM contacts WHERE account_id = ? AND role = 'sponsor' AND active = 1",
        (aid,),
    )
    if sponsor:
        assert f"**Executive Sponsor** (Customer side): {sponsor}" in text


def test_an_account_with_no_data_still_reads_as_words(book) -> None:
    with book.write() as conn:
        add_account(conn, "BARE", "Bare Minimum")
    for render in (qbr_markdown, success_plan_markdown):
        text = render(book, "BARE")
        _unplaceholdered(text)
        assert "Bare Minimum" in text
    assert "No usage snapshots are recorded" in qbr_markdown(book, "BARE")


def test_unknown_account_is_not_found(book) -> None:
    with pytest.raises(NotFound, match="NOPE"):
        qbr_markdown(book, "NOPE")


def test_tasks_alerts_and_save_plans_become_actions_and_risks(book) -> None:
    with book.write() as conn:
        add_account(conn, "T1", "Tango", owner="Ana Ruiz", arr=50000, health_score=45,
                    health_band="red", renewal_date="2027-01-15")  # fmt: skip
        conn.execute(
            "INSERT INTO alerts (id, account_id, rule, severity, fired_at, reason) VALUES "
            "(7, 'T1', 'champion_left', 'high', '2026-11-20T09:00:00', "
            "'The champion Jo Park left on 2026-11-19')"
        )
        conn.execute(
            "INSERT INTO save_plans (id, account_id, alert_id, risk_level, reasons, owner, "
            "target_date, success_criteria, status, created_at) VALUES ('SP-1', 'T1', 7, "
            "'high', '[\"champion_left\"]', 'Ana Ruiz', '2026-12-20', 'New champion named', "
            "'open', '2026-11-21T09:00:00')"
        )
        conn.executemany(
            "INSERT INTO tasks (id, account_id, title, due_date, done, done_at, created_at) "
            "VALUES (?, 'T1', ?, ?, ?, ?, '2026-11-21T09:00:00')",
            [("TK-1", "Meet the new VP", "2026-12-01", 0, None),
             ("TK-2", "Send the usage review", None, 0, None),
             ("TK-3", "Kick-off call", "2026-11-10", 1, "2026-11-10T10:00:00")],
        )  # fmt: skip
    qbr = qbr_markdown(book, "T1")
    assert "| Meet the new VP | CSM (Ana Ruiz) | 2026-12-01 |" in qbr
    assert "| Send the usage review | CSM (Ana Ruiz) | no due date |" in qbr
    assert (
        "The champion Jo Park left on 2026-11-19 | High | Save plan SP-1 (open, target "
        "2026-12-20)" in qbr
    )
    assert "Completed 2026-11-10: Kick-off call" in qbr
    plan = success_plan_markdown(book, "T1")
    assert "- [x] Kick-off call (done 2026-11-10)" in plan
    assert "- [ ] Meet the new VP (due 2026-12-01)" in plan
    assert "| Save plan SP-1: champion left | High | New champion named |" in plan
    for text in (qbr, plan):
        _unplaceholdered(text)
