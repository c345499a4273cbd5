"""Every default alert rule (fires / does not fire) and the lifecycle (dedupe, re-fire, snooze)."""

from __future__ import annotations

import json

import pytest

from csm_tui.scoring.engine import rescore_account, rescore_all
from tests.scoring.conftest import TODAY, day


def rescore(book, account_id: str = "ACC-1"):
    with book.write() as conn:
        return rescore_account(conn, account_id)


def live_rules(book, account_id: str = "ACC-1") -> set[str]:
    rows = book.query(
        "SELECT rule FROM alerts WHERE account_id = ? AND status IN ('open', 'snoozed')",
        (account_id,),
    )
    return {r[0] for r in rows}


def snapshot(book, days_ago: int, score: float, band: str, account_id: str = "ACC-1") -> None:
    with book.write() as conn:
        conn.execute(
            "INSERT INTO health (account_id, date, score, band) VALUES (?, ?, ?, ?)",
            (account_id, day(days_ago), score, band),
        )


def test_a_healthy_account_raises_no_alert(book, build):
    build.healthy()
    result = rescore(book)
    assert result.band == "green"
    assert live_rules(book) == set()


def test_score_drop_and_band_worsened(book, build):
    build.healthy()
    snapshot(book, 7, 95.0, "green")
    with book.write() as conn:  # much worse today
        conn.execute(
            "UPDATE usage SET mau = 5, active_users = 5, dau = 0.5 WHERE date = ?", (day(0),)
        )
        conn.execute(
            "UPDATE accounts SET open_escalations = 3, onboarding_pct = 0, sponsor_engaged = 0"
        )
        conn.execute("UPDATE objectives SET status = 'off_track'")
    result = rescore(book)
    rules = {a.rule: a for a in result.alerts_opened}
    assert rules["score_drop"].reason == (
        f"Health 95 → {result.score:.0f}, −{95 - result.score:.0f} in 7 days; rule: drop ≥ 10 points"
    )
    assert result.band in ("yellow", "red")
    assert rules["band_worsened"].reason.startswith(f"Band green → {result.band} in 7 days")
    assert result.delta_7 == pytest.approx(result.score - 95)


def test_small_drop_does_not_fire(book, build):
    build.healthy()
    score = rescore(book).score
    snapshot(book, 7, score + 5, "green")
    assert "score_drop" not in {a.rule for a in rescore(book).alerts_opened}


def test_mau_drop(book, build):
    build.healthy()
    with book.write() as conn:
        conn.execute("UPDATE usage SET mau = 40 WHERE date = ?", (day(0),))
    result = rescore(book)
    alert = next(a for a in result.alerts_opened if a.rule == "mau_drop")
    assert alert.reason == "MAU 80 → 40, −50 % in 30 days; rule: MAU down ≥ 30 %"
    assert alert.severity == "high"


def test_mau_down_less_than_threshold_does_not_fire(book, build):
    build.healthy()
    with book.write() as conn:
        conn.execute("UPDATE usage SET mau = 60 WHERE date = ?", (day(0),))
    assert "mau_drop" not in live_rules(book) | {a.rule for a in rescore(book).alerts_opened}


def test_ticket_spike_and_open_sev1(book, build):
    build.healthy("ACC-1")
    build.healthy("ACC-2")
    for _ in range(4):
        build.ticket("ACC-1", 3)
    build.ticket("ACC-1", 40)
    build.ticket("ACC-2", 50, severity=1, open_=True)
    spike = next(a for a in rescore(book, "ACC-1").alerts_opened if a.rule == "ticket_spike")
    assert spike.reason.startswith("4 tickets in 14 days vs 0.2 per 14 days before")
    sev1 = next(a for a in rescore(book, "ACC-2").alerts_opened if a.rule == "ticket_spike")
    assert sev1.reason.startswith("1 open sev-1")


def test_steady_tickets_do_not_spike(book, build):
    build.healthy()
    for days in (3, 10, 20, 35, 50, 65, 80, 95):
        build.ticket("ACC-1", days)
    rescore(book)
    assert "ticket_spike" not in live_rules(book)


def test_detractor_nps(book, build):
    build.healthy()
    build.response("ACC-1", 1, 3)
    alert = next(a for a in rescore(book).alerts_opened if a.rule == "detractor_nps")
    assert alert.reason == f"Latest NPS 3 on {day(1)}; rule: NPS 0–6 (detractor)"


def test_old_or_passive_nps_does_not_fire(book, build):
    build.healthy("ACC-1")
    build.response("ACC-1", 1, 7)
    build.account("ACC-2")
    build.response("ACC-2", 300, 2)
    rescore(book, "ACC-1")
    rescore(book, "ACC-2")
    assert "detractor_nps" not in live_rules(book, "ACC-1") | live_rules(book, "ACC-2")


def test_champion_or_sponsor_left(book, build):
    build.healthy()
    build.contact("ACC-1", "sponsor", name="Dana Wu", left_days_ago=5)
    alert = next(a for a in rescore(book).alerts_opened if a.rule == "stakeholder_left")
    assert alert.reason.startswith(f"The executive sponsor Dana Wu left on {day(5)}")


def test_departure_long_ago_does_not_fire(book, build):
    build.healthy()
    build.contact("ACC-1", "champion", name="Old Friend", left_days_ago=60)
    rescore(book)
    assert "stakeholder_left" not in live_rules(book)


def test_renewal_within_90_days_and_not_green(book, build):
    build.account("ACC-1", renewal_date=day(-30), onboarding_pct=10, open_escalations=3)
    build.usage("ACC-1", 0, mau=10)
    build.event("ACC-1", 80)
    result = rescore(book)
    assert result.band in ("red", "yellow")
    alert = next(a for a in result.alerts_opened if a.rule == "renewal_not_green")
    assert f"Renewal on {day(-30)} (in 30 days)" in alert.reason
    build.healthy("ACC-2", renewal_date=day(-30))
    rescore(book, "ACC-2")
    assert "renewal_not_green" not in live_rules(book, "ACC-2")


def test_not_activated_by_day_30(book, build):
    build.account("ACC-1", start_date=day(45), activated_on=None)
    build.account("ACC-2", start_date=day(10), activated_on=None)
    build.account("ACC-3", start_date=day(45), activated_on=day(20))
    alert = next(a for a in rescore(book, "ACC-1").alerts_opened if a.rule == "not_activated")
    assert (
        alert.reason
        == f"Started {day(45)} (45 days ago), not activated yet; rule: activated by day 30"
    )
    rescore(book, "ACC-2")
    rescore(book, "ACC-3")
    assert "not_activated" not in live_rules(book, "ACC-2") | live_rules(book, "ACC-3")


def test_expansion_signal(book, build):
    build.healthy()
    with book.write() as conn:
        conn.execute("UPDATE usage SET active_users = 95")
    result = rescore(book)
    alert = next(a for a in result.alerts_opened if a.rule == "expansion_signal")
    assert alert.severity == "low" and "seats 95 % used, NPS 9" in alert.reason


def test_one_live_alert_per_rule_and_account(book, build):
    build.healthy()
    build.response("ACC-1", 1, 2)
    assert [a.rule for a in rescore(book).alerts_opened] == ["detractor_nps"]
    assert rescore(book).alerts_opened == []
    rescore_all(book)
    assert book.scalar("SELECT count(*) FROM alerts WHERE rule = 'detractor_nps'") == 1


def close(book, rule: str) -> None:
    with book.write() as conn:
        conn.execute(
            "UPDATE alerts SET status = 'done', closed_at = ?, close_reason = 'Resolved' "
            "WHERE rule = ? AND status != 'done'",
            (day(0), rule),
        )


def test_a_closed_alert_refires_only_after_its_condition_cleared(book, build):
    build.healthy()
    build.response("ACC-1", 2, 2)
    rescore(book)
    close(book, "detractor_nps")
    assert rescore(book).alerts_opened == []  # still a detractor: stays closed
    build.response("ACC-1", 1, 9)  # condition clears
    rescore(book)
    assert book.scalar("SELECT condition_cleared FROM alerts WHERE rule = 'detractor_nps'") == 1
    build.response("ACC-1", 0, 1)  # and comes back
    assert [a.rule for a in rescore(book).alerts_opened] == ["detractor_nps"]
    assert book.scalar("SELECT count(*) FROM alerts WHERE rule = 'detractor_nps'") == 2


def test_a_live_alert_whose_condition_clears_stays_for_triage(book, build):
    build.healthy()
    build.response("ACC-1", 2, 2)
    rescore(book)
    build.response("ACC-1", 1, 9)
    result = rescore(book)
    assert [a.rule for a in result.alerts_cleared] == ["detractor_nps"]
    row = book.query("SELECT status, detail FROM alerts WHERE rule = 'detractor_nps'")[0]
    assert row[0] == "open"
    assert json.loads(row[1])["condition_cleared_on"] == TODAY.isoformat()
    assert rescore(book).alerts_cleared == []  # reported once


@pytest.mark.parametrize(
    ("until", "status"), [(day(1), "open"), (day(0), "open"), (day(-3), "snoozed")]
)
def test_snoozed_alert_reopens_when_its_date_comes(book, build, until, status):
    build.healthy()
    build.response("ACC-1", 2, 2)
    rescore(book)
    with book.write() as conn:
        conn.execute("UPDATE alerts SET status = 'snoozed', snoozed_until = ?", (until,))
    rescore(book)
    assert book.scalar("SELECT status FROM alerts") == status
    assert book.scalar("SELECT count(*) FROM alerts") == 1


def test_full_rescore_reopens_expired_snoozes_and_opens_like_single(book, build):
    build.healthy("ACC-1")
    build.response("ACC-1", 2, 2)
    build.healthy("ACC-2")
    build.response("ACC-2", 2, 2)
    rescore(book, "ACC-1")
    with book.write() as conn:
        conn.execute("UPDATE alerts SET status = 'snoozed', snoozed_until = ?", (day(1),))
    summary = rescore_all(book)
    assert summary.alerts_reopened == 1 and summary.alerts_opened == 1
    assert live_rules(book, "ACC-2") == {"detractor_nps"}


def test_churned_accounts_get_no_alerts(book, build):
    build.account("ACC-1", status="churned", start_date=day(45), activated_on=None)
    build.response("ACC-1", 1, 0)
    rescore(book)
    rescore_all(book)
    assert book.scalar("SELECT count(*) FROM alerts") == 0


def test_disabled_rule_never_fires(book, build):
    from dataclasses import replace

    from csm_tui.scoring.config import default_config

    cfg = default_config()
    rules = tuple(replace(r, enabled=False) if r.key == "detractor_nps" else r for r in cfg.rules)
    build.healthy()
    build.response("ACC-1", 1, 0)
    with book.write() as conn:
        result = rescore_account(conn, "ACC-1", config=replace(cfg, rules=rules))
    assert result.alerts_opened == []


def test_full_rescore_follows_the_same_refire_rule(book, build):
    build.healthy()
    build.response("ACC-1", 2, 2)
    rescore_all(book)
    close(book, "detractor_nps")
    assert rescore_all(book).alerts_opened == 0  # closed, condition never cleared
    build.response("ACC-1", 1, 9)
    rescore_all(book)
    build.response("ACC-1", 0, 1)
    assert rescore_all(book).alerts_opened == 1
    reasons = [r[0] for r in book.query("SELECT reason FROM alerts ORDER BY id")]
    assert reasons[-1] == f"Latest NPS 1 on {day(0)}; rule: NPS 0–6 (detractor)"
