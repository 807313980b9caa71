"""Whatever a patient types, at every point of the conversation: nothing escapes, nonsense changes nothing, and a
crisis phrase is heard even with invisible characters inside it."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.adapters.console import ConsoleChat
from bot.flows.handlers import Handlers
from bot.flows.parsing import contains_folded_phrase, parse_answer
from bot.store.tables import ANSWER, CHAT_LINK, CONVERSATION, PATIENT, SCREENING
from tests.fuzz.hostile import (CRISIS_RESOURCE, STATES, hidden_in, hostile_text, in_state, scratch_services,
                                snapshot, texts)

pytestmark = pytest.mark.fuzz
PROMPT_OF = {"consent": "consent", "acuity": "acuity"}  # the fixed-choice prompt open in that state
FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def recognised(services, state: str, text: str) -> bool:
    """Say whether the core reads the text as a command, a crisis phrase or an answer to what is open."""
    flow = services.flow
    if flow.words.command(text) is not None or contains_folded_phrase(text, flow.folded_crisis_phrases):
        return True
    if state == "question":
        phq2 = flow.catalog["phq2"]
        return parse_answer(phq2, phq2.items[0], text, flow.words) is not None
    if state in PROMPT_OF:
        return Handlers(None, None, flow, None).match_choice(PROMPT_OF[state], text) is not None
    return False


def stored(services, chat: ConsoleChat) -> dict:
    """Return what is stored of a chat's patient: status, conversation state, answers by item."""
    with services.store.engine.connect() as conn:
        patient = conn.execute(select(PATIENT.c.id, PATIENT.c.status).join(CHAT_LINK).where(
            CHAT_LINK.c.chat_id == chat.chat_id)).one()
        state = conn.execute(select(CONVERSATION.c.state).where(CONVERSATION.c.patient_id == patient.id)).scalar_one()
        answers = conn.execute(select(ANSWER.c.instrument, ANSWER.c.item, ANSWER.c.value).join(SCREENING).where(
            SCREENING.c.patient_id == patient.id)).all()
    return {"status": patient.status, "state": state, "answers": {(a.instrument, a.item): a.value for a in answers}}


def test_hostile_text_at_every_state_changes_nothing_and_asks_again():
    with scratch_services() as services:
        chats = {state: in_state(services, state) for state in STATES}
        usual = {state: (texts(chats[state].type("xyzzy")), texts(chats[state].type(""))) for state in STATES}
        assert usual["question"][0][-1].startswith("1 of 2")
        assert usual["acuity"][0][0].startswith("Are you having")  # asked again first: it goes out at crisis priority
        assert usual["paused"][0] == ['Your questionnaire is paused. Send "resume" to continue.']
        assert usual["stopped"][0][0].startswith("You have stopped messages")

        @FUZZ
        @given(text=hostile_text)
        def check(text: str) -> None:
            for state in STATES:
                before = snapshot(services)
                received = texts(chats[state].type(text))  # an exception escaping handle() fails here
                if recognised(services, state, text):
                    chats[state] = in_state(services, state)  # it did something by design: start that state afresh
                    continue
                assert snapshot(services) == before, (state, text[:80])
                assert received in usual[state], (state, text[:80], received)

        check()


def test_sql_looking_and_oversized_text_is_just_text():
    with scratch_services() as services:
        chat = in_state(services, "question")
        before = snapshot(services)
        for text in ("'; DROP TABLE patient; --", "1; DROP TABLE answer;--", "x" * 100_000, "\u202e" * 100_000,
                     "2" + "\u200b" * 50_000, "\x00" * 1000, "🙂" * 30_000):
            assert texts(chat.type(text))[-1].startswith("1 of 2"), text[:30]
        assert snapshot(services) == before  # every table still there, nothing written but the replies


VALID = [  # (state, what the patient means, what must be stored afterwards)
    ("question", "2", lambda s: s["answers"] == {("phq2", "q1"): 1}),
    ("question", "nearly every day", lambda s: s["answers"] == {("phq2", "q1"): 3}),
    ("question", "pause", lambda s: s["state"] == "paused"),
    ("consent", "I agree", lambda s: s["state"] == "screening"),
    ("paused", "resume", lambda s: s["state"] == "screening"),
    ("stopped", "start", lambda s: s["status"] == "active" and s["state"] == "consent"),
    ("acuity", "no", lambda s: s["answers"] == {("asq", "q5"): 0}),
]


def test_valid_replies_with_invisible_characters_inside_still_do_what_they_say():
    with scratch_services() as services:

        @FUZZ
        @given(case=st.sampled_from(VALID), data=st.data())
        def check(case, data) -> None:
            state, meant, expected = case
            chat = in_state(services, state)
            typed = data.draw(hidden_in(meant), label="typed")
            chat.type(typed)
            assert expected(stored(services, chat)), (state, typed)

        check()


CRISIS_PHRASES = ["kill myself", "suicide", "want to die", "matarme", "quiero morir"]


def test_a_crisis_phrase_hidden_in_any_text_gets_crisis_resources_at_every_state():
    with scratch_services() as services:

        @FUZZ
        @given(state=st.sampled_from(STATES), phrase=st.sampled_from(CRISIS_PHRASES), before=st.text(max_size=40),
               after=st.text(max_size=40), data=st.data())
        def check(state, phrase, before, after, data) -> None:
            chat = in_state(services, state)
            typed = before + " " + data.draw(hidden_in(phrase), label="phrase") + " " + after
            received = texts(chat.type(typed))
            assert any(CRISIS_RESOURCE in text for text in received), (state, typed, received)

        check()


@pytest.mark.parametrize("typed", [
    "sui\u00adcide",  # a soft hyphen, as pasted from a web page
    "kill\u2066 myself\u2069",  # bidi isolates, as some clients wrap mixed-direction text
    "kill\x00 myself",  # NUL
    "kill\ufe0f myself",  # a variation selector
    "sui\u034fcide",  # the combining grapheme joiner
    "kill \U000e0020myself",  # a tag character
    "QUIERO\u180e MORÍR",  # Mongolian vowel separator
])
def test_invisible_characters_that_used_to_hide_a_crisis_phrase(typed):
    with scratch_services() as services:
        chat = in_state(services, "question")
        received = texts(chat.type(typed))
        assert received[0].startswith("If you are thinking about hurting yourself") and CRISIS_RESOURCE in received[0]
        assert received[-1].startswith("Are you having thoughts of killing yourself right now?")


@pytest.mark.parametrize("state", ["consent", "acuity"])
def test_digits_python_cannot_read_as_a_number_are_just_not_an_answer(state):
    # '⓵' and '፩' are digits to str.isdigit() but not to int(); a 5,000-digit number is beyond int()'s limit.
    with scratch_services() as services:
        chat = in_state(services, state)
        before = snapshot(services)
        for typed in ("⓵", "\u1369", "0" * 5_000):
            assert "Sorry, I didn't get that. Please tap a button or send a number from 1 to 2." in texts(chat.type(typed))
        assert snapshot(services) == before
