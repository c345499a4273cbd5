"""The account screen and its forms: saves reach the book, the screen updates in place,
escape and invalid input write nothing."""

from __future__ import annotations

from csm_tui.screens.account import AccountScreen
from csm_tui.screens.forms.edit_account import EditAccountForm
from csm_tui.screens.forms.log_activity import LogActivityForm
from csm_tui.screens.forms.note import NoteForm
from csm_tui.screens.forms.nps import NpsForm
from csm_tui.widgets.health_gauge import HealthGauge
from tests.tui.conftest import SIZE, read_one, type_text, wait_for


def _account_with_champion(db) -> str:
    return read_one(
        db,
        "SELECT a.id FROM accounts a JOIN contacts c ON c.account_id = a.id "
        "WHERE a.status = 'active' AND c.role = 'champion' AND c.active = 1 "
        "AND a.health_band IN ('green', 'yellow') AND NOT EXISTS (SELECT 1 FROM alerts l "
        "WHERE l.account_id = a.id AND l.rule = 'stakeholder_left') ORDER BY a.id LIMIT 1",
    )


async def _open(pilot, account_id: str) -> AccountScreen:
    app = pilot.app
    await wait_for(pilot, lambda: app.book_summary is not None)
    app.open_account(account_id)
    await wait_for(
        pilot, lambda: isinstance(app.screen, AccountScreen) and app.screen.view is not None
    )
    return app.screen


def _text(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def test_account_screen_shows_gauge_and_panels(app_factory, ui_book) -> None:
    account_id = _account_with_champion(ui_book)
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, account_id)
        score = read_one(
            ui_book, "SELECT health_score FROM scored_accounts WHERE id = ?", (account_id,)
        )
        gauge = screen.query_one(HealthGauge)
        assert gauge.gauge.score == score
        assert f"{score:.0f}" in str(gauge.render())
        champion = read_one(
            ui_book,
            "SELECT name FROM contacts WHERE account_id = ? AND role = 'champion' AND active = 1",
            (account_id,),
        )
        assert champion in _text(screen, "#stakeholders")


async def test_edit_champion_left_saves_rescoring_and_updates_the_screen(
    app_factory, ui_book
) -> None:
    account_id = _account_with_champion(ui_book)
    last_alert = read_one(ui_book, "SELECT coalesce(max(id), 0) FROM alerts")
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        screen = await _open(pilot, account_id)
        before = screen.view
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, EditAccountForm))
        app.screen.query_one("#field-champion_left").focus()
        await type_text(pilot, "yes")
        await pilot.press("ctrl+s")
        await wait_for(
            pilot, lambda: isinstance(app.screen, AccountScreen) and app.screen.view is not before
        )
        active = read_one(
            ui_book,
            "SELECT count(*) FROM contacts WHERE account_id = ? AND "
            "role = 'champion' AND active = 1",
            (account_id,),
        )
        assert active == 0
        reason = read_one(
            ui_book,
            "SELECT reason FROM alerts WHERE account_id = ? AND status = 'open' AND id > ?",
            (account_id, last_alert),
        )
        assert reason, "saving the departure should open an alert"
        await wait_for(pilot, lambda: reason in _text(app.screen, "#alerts"))
        assert "left" in _text(app.screen, "#stakeholders")
        stored = read_one(
            ui_book, "SELECT health_score FROM scored_accounts WHERE id = ?", (account_id,)
        )
        assert app.screen.query_one(HealthGauge).gauge.score == stored
        assert any("Health" in n.message for n in app._notifications)


async def test_invalid_input_is_shown_inline_and_nothing_is_saved(app_factory, ui_book) -> None:
    account_id = _account_with_champion(ui_book)
    seats = read_one(ui_book, "SELECT seats FROM accounts WHERE id = ?", (account_id,))
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, account_id)
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, EditAccountForm))
        field = app.screen.query_one("#field-seats")
        field.focus()
        field.value = ""
        await type_text(pilot, "lots")
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert isinstance(app.screen, EditAccountForm)  # still open
        assert _text(app.screen, "#error-seats").strip()  # says what is wrong
        assert "Not saved" in _text(app.screen, "#form-message")
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, AccountScreen))
    assert read_one(ui_book, "SELECT seats FROM accounts WHERE id = ?", (account_id,)) == seats


async def test_escape_cancels_every_form_with_nothing_written(app_factory, ui_book) -> None:
    account_id = _account_with_champion(ui_book)
    count_sql = (
        "SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM responses) + "
        "(SELECT count(*) FROM contacts WHERE active = 1)"
    )
    before = read_one(ui_book, count_sql)
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, account_id)
        for key, form in (("n", NoteForm), ("l", LogActivityForm), ("r", NpsForm)):
            await pilot.press(key)
            await wait_for(pilot, lambda form=form: isinstance(app.screen, form))
            await type_text(pilot, "7")
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, AccountScreen))
    assert read_one(ui_book, count_sql) == before


async def test_note_log_and_nps_are_written(app_factory, ui_book) -> None:
    account_id = _account_with_champion(ui_book)
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, account_id)
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, NoteForm))
        await type_text(pilot, "Budget review moved to March")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, AccountScreen))
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, LogActivityForm))
        await type_text(pilot, "Call with the sponsor")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: isinstance(app.screen, AccountScreen))
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, NpsForm))
        await type_text(pilot, "3")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, AccountScreen))
        await wait_for(pilot, lambda: "Call with the sponsor" in _text(app.screen, "#timeline"))
    kinds = read_one(
        ui_book,
        "SELECT group_concat(kind || ':' || text, '|') FROM events "
        "WHERE account_id = ? AND text IN (?, ?)",
        (account_id, "Budget review moved to March", "Call with the sponsor"),
    )
    assert sorted(kinds.split("|")) == [
        "call:Call with the sponsor",
        "note:Budget review moved to March",
    ]
    assert (
        read_one(
            ui_book,
            "SELECT score FROM responses WHERE account_id = ? AND kind = 'nps' "
            "ORDER BY rowid DESC LIMIT 1",
            (account_id,),
        )
        == 3
    )


async def test_nps_out_of_range_is_refused_inline(app_factory, ui_book) -> None:
    account_id = _account_with_champion(ui_book)
    before = read_one(ui_book, "SELECT count(*) FROM responses")
    app = app_factory()
    async with app.run_test(size=SIZE) as pilot:
        await _open(pilot, account_id)
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, NpsForm))
        await type_text(pilot, "11")
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert isinstance(app.screen, NpsForm)
        assert "0–10" in _text(app.screen, "#error-score")
    assert read_one(ui_book, "SELECT count(*) FROM responses") == before
