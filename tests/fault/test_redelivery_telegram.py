"""Telegram redelivers updates (a lost 200, a restart before the offset moved): a second copy changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from bot.services.enrollment import create_enrollment_token
from bot.standins.telegram.app import FakeBotApi
from tests.e2e.telegram_harness import RunningBot, wait_for
from tests.fault.redelivery import fresh_database, post_update, settle, steady_bot, stored

pytestmark = [pytest.mark.fault, pytest.mark.store]

CRISIS, OFFER = 5570001, 5570002
CRISIS_TEXT = "Si está pensando en hacerse daño"  # the crisis resources, in Spanish by then
# (chat, what the patient does, text typed or the label of a button under the bot's newest message with buttons)
JOURNEY = [
    (CRISIS, "link", "MRN-71"), (CRISIS, "press", "I agree"), (CRISIS, "press", "More than half the days"),
    (CRISIS, "type", "Nearly every day"), (CRISIS, "type", "/back"), (CRISIS, "press", "Nearly every day"),
    (CRISIS, "type", "/pause"), (CRISIS, "type", "hello"), (CRISIS, "type", "/resume"), (CRISIS, "type", "/language"),
    (CRISIS, "press", "Español"), (CRISIS, "type", "2"), (CRISIS, "press", "Varios días"), (CRISIS, "type", "1"),
    (CRISIS, "press", "Ningún día"), (CRISIS, "type", "1"), (CRISIS, "type", "1"),
    (CRISIS, "type", "varios dias"),  # item 9: crisis resources, an urgent page, the acuity question
    (CRISIS, "press", "No"), (CRISIS, "press", "Un poco difícil"), (CRISIS, "type", "/help"),
    (OFFER, "link", "MRN-72"), (OFFER, "type", "I agree"), (OFFER, "press", "Nearly every day"),
    (OFFER, "press", "Nearly every day"), (OFFER, "type", "3"), (OFFER, "press", "Nearly every day"),
    (OFFER, "type", "2"), (OFFER, "type", "2"), (OFFER, "type", "2"), (OFFER, "type", "2"),
    (OFFER, "press", "Not at all"), (OFFER, "type", "somewhat difficult"),
    (OFFER, "press", "Call me later"),  # consent to be contacted: a routine page with a callback
    (OFFER, "type", "/start"),
]


@dataclass
class Outcome:
    """What one run of the journey left behind."""

    rows: dict[str, list[dict]]
    calls: list[tuple]  # every message sent or edited, in order: (method, chat, text, buttons)
    screens: dict[int, list[tuple]]  # each chat as the patient now sees it: (text, buttons)


def newest_buttons(api: FakeBotApi, chat: int):
    """Return the bot's newest message in the chat that has buttons."""
    return next(message for message in reversed(api.sent(chat)) if message.buttons)


def make_update(bot: RunningBot, api: FakeBotApi, chat: int, action: str, value: str) -> dict:
    """Build the update of one step (an enrollment link, a typed line, or a press of a labelled button)."""
    if action == "link":
        return api.make_message_update(chat, f"/start {create_enrollment_token(bot.services, 'mood', value, 7)}")
    if action == "type":
        return api.make_message_update(chat, value)
    message = newest_buttons(api, chat)
    buttons = dict(message.buttons)
    assert value in buttons, f"no button {value!r} under {message.text[:40]!r}: the conversation went elsewhere"
    return api.make_callback_update(chat, message.message_id, buttons[value])


def once(bot: RunningBot, updates: list[dict]) -> None:
    """Post the newest update once."""
    post_update(bot, updates[-1])


def twice(bot: RunningBot, updates: list[dict]) -> None:
    """Post the newest update twice at once (Telegram retrying while the first attempt is still being handled)."""
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda update: post_update(bot, update), [updates[-1]] * 2))


def late(bot: RunningBot, updates: list[dict]) -> None:
    """Post the newest update, then the one before it again (a redelivery arriving after the next update)."""
    post_update(bot, updates[-1])
    if len(updates) > 1:
        settle(bot)
        post_update(bot, updates[-2])


def run(database_url: str, name: str, deliver: Callable[[RunningBot, list[dict]], None]) -> Outcome:
    """Walk both patients through the journey, each update delivered by `deliver`, and return what it left."""
    with FakeBotApi().running() as api, steady_bot(api, fresh_database(database_url, name)) as bot:
        updates: list[dict] = []
        for chat, action, value in JOURNEY:
            updates.append(make_update(bot, api, chat, action, value))
            deliver(bot, updates)
            settle(bot)
        if deliver is late:  # the last update has no next one to come after: it comes again at the end
            post_update(bot, updates[-1])
            settle(bot)
        wait_for(lambda: len(api.answered_callbacks) >= sum(a == "press" for _, a, _ in JOURNEY), what="presses")
        calls = [(c.method, c.params.get("chat_id"), c.params.get("text"), str(c.params.get("reply_markup")))
                 for c in api.calls if c.method in ("sendMessage", "editMessageText")]
        screens = {chat: [(m.text, m.buttons) for m in api.sent(chat)] for chat in (CRISIS, OFFER)}
        return Outcome(stored(bot), calls, screens)


_single: dict[str, Outcome] = {}


def single(database_url: str) -> Outcome:
    """Return the journey delivered once (computed once per database backend: it is the same every time)."""
    backend = database_url.split(":", 1)[0]
    if backend not in _single:
        _single[backend] = run(database_url, "once", once)
    return _single[backend]


@pytest.mark.parametrize("deliver", [twice, late], ids=["each-update-twice", "each-update-again-after-the-next"])
def test_redelivered_updates_change_nothing(database_url, deliver):
    expected = single(database_url)
    got = run(database_url, deliver.__name__, deliver)
    for table, rows in expected.rows.items():
        assert got.rows[table] == rows, table  # answers, scores, screenings, handoffs, timers, audit, outbox, ...
    assert got.calls == expected.calls  # the same messages sent and edited, in the same order, none twice
    assert got.screens == expected.screens
    # ... and the journey is the one meant: a changed answer, a pause, Spanish, one crisis message, two pages
    scores = [(score["instrument"], score["total"]) for score in got.rows["score"]]
    assert scores == [("phq2", 5), ("phq9", 8), ("phq2", 6), ("phq9", 15)]
    pages = [(h["urgency"], h["callback_requested"]) for h in got.rows["handoffrequest"]]
    assert pages == [("urgent", False), ("routine", True)]
    actions = [row["action"] for row in got.rows["auditlog"]]
    assert actions.count("answer_withdrawn") == 1 and actions.count("crisis_protocol") == 1
    sent = [text for method, chat, text, _ in got.calls if method == "sendMessage" and str(chat) == str(CRISIS)]
    assert sum(text.startswith(CRISIS_TEXT) for text in sent) == 1
    assert sum(text.startswith("Paused.") for text in sent) == 1
