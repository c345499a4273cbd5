"""Shipped playbook templates: installed into every new book, never overwriting user edits."""

from __future__ import annotations

from csm_tui.storage.db import open_book
from csm_tui.storage.playbooks import (
    REASON_LABELS,
    SAVE_REASONS,
    SHIPPED_PLAYBOOKS,
    install_shipped_playbooks,
    shipped_playbook,
)


def test_new_book_has_every_shipped_template_with_its_steps(book):
    rows = book.query("SELECT id, name, reason FROM playbooks ORDER BY id")
    assert {r["id"] for r in rows} == {p.id for p in SHIPPED_PLAYBOOKS}
    for playbook in SHIPPED_PLAYBOOKS:
        steps = book.query(
            "SELECT title, offset_days FROM playbook_steps WHERE playbook_id = ? ORDER BY position",
            (playbook.id,),
        )
        assert [(s["title"], s["offset_days"]) for s in steps] == [
            (s.title, s.offset_days) for s in playbook.steps
        ]


def test_templates_are_well_formed():
    ids = [p.id for p in SHIPPED_PLAYBOOKS]
    assert len(ids) == len(set(ids))
    for playbook in SHIPPED_PLAYBOOKS:
        assert playbook.reason is None or playbook.reason in SAVE_REASONS
        offsets = [s.offset_days for s in playbook.steps]
        assert offsets == sorted(offsets) and offsets[0] == 0
        assert len(playbook.steps) >= 5
    assert set(REASON_LABELS) == set(SAVE_REASONS)


def test_onboarding_starts_with_kickoff_and_ends_at_day_90():
    onboarding = shipped_playbook("onboarding-90")
    assert onboarding is not None
    assert onboarding.steps[0].title == "Kickoff call and account setup"
    assert onboarding.steps[-1].offset_days == 90
    assert shipped_playbook("no-such-playbook") is None


def test_save_reasons_with_a_playbook():
    answered = {p.reason for p in SHIPPED_PLAYBOOKS if p.reason}
    assert {"low_adoption", "technical_issues", "value_perception", "pricing"} <= answered
    assert {"competitive_threat", "champion_left"} <= answered


def test_reinstall_keeps_a_users_edited_template(book):
    with book.write() as conn:
        conn.execute("UPDATE playbooks SET name = 'My onboarding' WHERE id = 'onboarding-90'")
        conn.execute(
            "UPDATE playbook_steps SET offset_days = 3 "
            "WHERE playbook_id = 'onboarding-90' AND position = 2"
        )
        assert install_shipped_playbooks(conn) == 0
    assert book.scalar("SELECT name FROM playbooks WHERE id = 'onboarding-90'") == "My onboarding"
    assert (
        book.scalar(
            "SELECT offset_days FROM playbook_steps "
            "WHERE playbook_id = 'onboarding-90' AND position = 2"
        )
        == 3
    )


def test_reopening_a_book_does_not_duplicate_templates(db_path):
    open_book(db_path).close()
    book = open_book(db_path)
    try:
        total_steps = sum(len(p.steps) for p in SHIPPED_PLAYBOOKS)
        assert book.scalar("SELECT count(*) FROM playbooks") == len(SHIPPED_PLAYBOOKS)
        assert book.scalar("SELECT count(*) FROM playbook_steps") == total_steps
    finally:
        book.close()


def test_a_deleted_template_is_added_back_by_install(book):
    with book.write() as conn:
        conn.execute("DELETE FROM playbooks WHERE id = 'pricing'")
        assert install_shipped_playbooks(conn) == 1
    assert book.scalar("SELECT count(*) FROM playbook_steps WHERE playbook_id = 'pricing'") == 6
