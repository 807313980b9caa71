"""Button presses with made-up callback data: malformed, oversized, stale, or another patient's (forged). Only a
button the bot is showing this patient right now does anything; everything else gets the short stale reply."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.services.enrollment import create_enrollment_token
from bot.store.tables import ANSWER, HANDOFF
from tests.e2e.telegram_harness import RunningBot, last_message, wait_for
from tests.fuzz.hostile import STALE, STATES, buttons, in_state, new_chat, scratch_services, snapshot, texts

pytestmark = pytest.mark.fuzz
SKIP = {"inboundevent", "outbox"}  # a press is claimed and answered; nothing else, not even an audit row, may change
NOTED = "Thank you. We have told the clinician you would rather be called later."


def showing(chat) -> list[str]:
    """Return the buttons of what the patient is asked now (an empty message makes the bot ask it again)."""
    return buttons(chat.type(""))


def callback_data(pieces: list[str]) -> st.SearchStrategy[str]:
    """Arbitrary data, data longer than Telegram's 64 bytes, raw bytes, and real pieces put together wrongly."""
    piece = st.sampled_from(pieces + ["a", "c", "h", "later", "agree", "acuity_yes", "0", "3", "-1", "", "S-0001"])
    return st.one_of(
        st.text(max_size=80),
        st.text(min_size=65, max_size=300),
        st.binary(max_size=100).map(lambda raw: raw.decode("latin-1")),
        st.lists(st.one_of(piece, st.text(max_size=6)), max_size=6).map(":".join),
        st.builds(lambda real, junk, front: junk + real if front else real + junk, st.sampled_from(pieces),
                  st.text(min_size=1, max_size=70), st.booleans()),
    )


def test_made_up_callback_data_at_every_state_changes_nothing():
    with scratch_services() as services:
        chats = {state: in_state(services, state) for state in STATES}
        others = {state: in_state(services, state) for state in STATES}  # another patient, at the same point
        with services.store.engine.connect() as conn:  # the other patient at the acuity question has a handoff
            their_handoff = conn.execute(select(HANDOFF.c.ref).order_by(HANDOFF.c.id.desc())).scalars().first()
        forged = [data for other in others.values() for data in showing(other)] + [f"h:{their_handoff}:later"]
        pieces = sorted({part for data in forged for part in data.split(":")})

        @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @given(data=st.one_of(st.sampled_from(forged), callback_data(pieces)))
        def check(data: str) -> None:
            for state in STATES:
                chat = chats[state]
                current = showing(chat)
                before = snapshot(services, SKIP)
                received = texts(chat.press(data))
                if data in current:  # by chance, a button of this very prompt: it must do what it says
                    assert snapshot(services, SKIP) != before, (state, data)
                    chats[state] = in_state(services, state)
                    continue
                assert snapshot(services, SKIP) == before, (state, data)
                parts = data.split(":")
                if state != "stopped" and len(parts) == 3 and parts[0] == "h" and parts[2] == "later":
                    assert received == [NOTED], (state, data)  # said, but no handoff of theirs is marked
                else:
                    assert received == [STALE], (state, data, received)

        check()


def test_a_pressed_button_is_stale_once_answered_and_the_right_one_answers_once():
    with scratch_services() as services:
        chat, other = new_chat(services), new_chat(services)
        consent = buttons(chat.start())
        other.start()
        other_question = buttons(other.type("I agree"))
        question = buttons(chat.press(consent[0]))  # I agree
        before = snapshot(services, SKIP)
        for data in consent + other_question + [question[2] + "\x00", question[2].replace("a:", "a::"), question[2] * 3]:
            assert texts(chat.press(data)) == [STALE], data
        assert snapshot(services, SKIP) == before
        chat.press(question[2])
        assert texts(chat.press(question[1])) == [STALE]  # the same question, pressed again: answered already
        with services.store.engine.connect() as conn:
            assert conn.execute(select(ANSWER.c.item, ANSWER.c.value)).all() == [("q1", 2)]


def test_forged_and_oversized_presses_through_the_telegram_client_get_the_stale_toast(database_url):
    from bot.standins.telegram.app import FakeBotApi

    with FakeBotApi().running() as api, RunningBot(api, database_url) as bot:
        for chat_id in (901, 902):
            api.user_sends(chat_id, f"/start {create_enrollment_token(bot.services, 'mood', None, 7)}")
            consent = last_message(api, chat_id, 1)
            api.user_presses(chat_id, consent.message_id, dict(consent.buttons)["I agree"])
        mine, theirs = last_message(api, 901, 3), last_message(api, 902, 3)
        hostile = [dict(theirs.buttons)["Several days"], "a:" + "9" * 200, "\u202e:\u200b:\U0001f642", ":::"]
        queries = [api.user_presses(901, mine.message_id, data, require_button=False)["callback_query"]["id"]
                   for data in hostile]
        toasts = lambda: {a.callback_query_id: a.text for a in api.answered_callbacks}  # noqa: E731
        wait_for(lambda: set(queries) <= set(toasts()), what="every press answered")
        assert [toasts()[query] for query in queries] == [STALE] * len(hostile)
        with bot.services.store.engine.connect() as conn:
            assert conn.execute(select(ANSWER.c.id)).all() == []
