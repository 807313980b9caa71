"""The bot as patients meet it in Telegram: the real python-telegram-bot client against the Bot API stand-in."""

from __future__ import annotations

import time

import httpx
import pytest
from sqlmodel import Session, func, select

from bot.adapters.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH
from bot.services.enrollment import create_enrollment_token
from bot.standins.telegram.app import FakeBotApi
from bot.standins.telegram.limits import RateLimits as ApiLimits
from bot.store import models as m
from bot.worker.pace import RateLimits
from tests.e2e.telegram_harness import RunningBot, last_message, wait_for

CHAT = 5550001
CONSENT = "Hello! This is the care team at Mood Clinic"


@pytest.fixture
def api():
    with FakeBotApi().running() as running:
        yield running


def count(bot: RunningBot, model, *where) -> int:
    with Session(bot.services.store.engine) as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def enroll(bot: RunningBot, api: FakeBotApi, chat_id: int = CHAT):
    token = create_enrollment_token(bot.services, "mood", "MRN-77", 7)
    api.user_sends(chat_id, f"/start {token}")
    consent = last_message(api, chat_id, 1)
    assert consent.text.startswith(CONSENT)
    return consent


def press(api: FakeBotApi, chat_id: int, message, label: str) -> None:
    data = dict(message.buttons)[label]
    api.user_presses(chat_id, message.message_id, data)


def test_a_screening_by_buttons_edits_each_answered_question_and_answers_every_press(api, database_url):
    with RunningBot(api, database_url) as bot:
        consent = enroll(bot, api)
        press(api, CHAT, consent, "I agree")
        question = last_message(api, CHAT, 3)
        assert question.text.startswith("1 of 2")
        assert [row[0]["text"] for row in question.keyboard] == [
            "Not at all", "Several days", "More than half the days", "Nearly every day"]  # long labels: a row each
        press(api, CHAT, question, "Several days")
        second = last_message(api, CHAT, 4)
        assert second.text.startswith("2 of 2")
        press(api, CHAT, second, "Not at all")
        wait_for(lambda: api.sent(CHAT)[-1].text.startswith("That's all for now"), what="the end of the screening")
        edited = wait_for(lambda: api.sent(CHAT)[3].keyboard == [] and api.sent(CHAT)[3], what="the edit")
        assert edited.text.endswith("✓ Not at all")
        first = api.sent(CHAT)[2]
        assert first.text.endswith("✓ Several days") and first.keyboard == []
        assert api.sent(CHAT)[0].text.endswith("✓ I agree")
        wait_for(lambda: len(api.answered_callbacks) == 3, what="every press answered")
        with Session(bot.services.store.engine) as session:
            assert [(s.instrument, s.total, s.positive) for s in session.exec(select(m.Score)).all()] == [("phq2", 1, False)]


def test_typed_answers_and_crisis_resources_come_before_the_acuity_question(api, database_url):
    with RunningBot(api, database_url) as bot:
        enroll(bot, api)
        api.user_sends(CHAT, "I agree")
        for count_before, reply in enumerate(["3", "Nearly every day", "1", "1", "1", "1", "1", "1"], start=3):
            last_message(api, CHAT, count_before)
            api.user_sends(CHAT, reply)
        assert last_message(api, CHAT, 11).text.startswith("9 of 9")
        api.user_sends(CHAT, "several days")  # item 9
        wait_for(lambda: len(api.sent(CHAT)) >= 13, what="crisis messages")
        crisis, acuity = api.sent(CHAT)[11:13]
        assert crisis.text.startswith("If you are thinking about hurting yourself")
        assert acuity.text.startswith("Are you having thoughts of killing yourself right now?")
        assert [label for label, _ in acuity.buttons] == ["Yes", "No"]
        assert count(bot, m.Outbox, m.Outbox.channel == "clinic", m.Outbox.kind == "page") == 1


def test_old_and_foreign_presses_get_a_toast_and_change_nothing(api, database_url):
    with RunningBot(api, database_url) as bot:
        consent = enroll(bot, api)
        press(api, CHAT, consent, "I agree")
        question = last_message(api, CHAT, 3)
        press(api, CHAT, question, "Several days")
        last_message(api, CHAT, 4)
        answers = count(bot, m.Answer)
        old_data = dict(question.buttons)["Nearly every day"]  # pressed on a keyboard the edit has not reached yet
        api.user_presses(CHAT, question.message_id, old_data, require_button=False)
        api.user_presses(CHAT, question.message_id, "a:S-XXXXXXXX:ABCDEF:3", require_button=False)  # forged
        wait_for(lambda: len(api.answered_callbacks) == 4, what="the presses answered")
        assert [c.text for c in api.answered_callbacks[-2:]] == ["That question was already answered."] * 2
        assert count(bot, m.Answer) == answers


def test_unknown_links_groups_stickers_and_edits_get_polite_replies(api, database_url):
    with RunningBot(api, database_url) as bot:
        api.user_sends(CHAT + 1, "/start not-a-token")
        assert last_message(api, CHAT + 1).text.startswith("Sorry, this link is not valid any more")
        api.add_chat(-100200, "group", "Waiting room")
        api.user_sends(-100200, "/start", chat_type="group")
        assert last_message(api, -100200).text.startswith("Sorry, this bot only works in a private chat")
        consent = enroll(bot, api)
        api.user_sends_sticker(CHAT)
        last_message(api, CHAT, 3)
        reply, again = api.sent(CHAT)[1:3]
        assert reply.text.startswith("Sorry, I can only read text messages") and again.text.startswith(CONSENT)
        api.user_edits(CHAT, consent.message_id, "edited")
        last_message(api, CHAT, 5)
        assert api.sent(CHAT)[3].text.startswith("Sorry, I can only read text messages")
        assert count(bot, m.Patient) == 1


def test_commands_are_registered_in_english_and_spanish(api, database_url):
    with RunningBot(api, database_url):
        calls = wait_for(lambda: len(api.calls_of("setMyCommands")) == 2 and api.calls_of("setMyCommands"))
    languages = sorted(str(call.params.get("language_code", "")) for call in calls)
    assert languages == ["", "es"]
    names = {c["command"] for c in calls[0].params["commands"]}
    assert {"start", "help", "pause", "resume", "back", "language", "stop"} <= names


def test_429_is_honoured_and_a_blocked_patient_is_marked_unreachable(api, database_url):
    with RunningBot(api, database_url) as bot:
        api.fail_next("sendMessage", status=429, retry_after=1)
        enroll(bot, api)  # the consent arrives, once, after the retry
        assert len(api.sent(CHAT)) == 1
        assert api.too_many_requests == 1
        api.block(CHAT)
        api.user_sends(CHAT, "I agree")
        wait_for(lambda: count(bot, m.Patient, m.Patient.status == "unreachable") == 1, what="unreachable")
        assert count(bot, m.AuditLog, m.AuditLog.action == "patient_unreachable") == 1
        assert count(bot, m.Answer) == 0


def test_the_worker_keeps_to_telegrams_limits(database_url):
    limits = ApiLimits(global_per_second=30, per_chat_per_second=1, per_chat_burst=3)
    with FakeBotApi(limits=limits).running() as api, RunningBot(api, database_url, limits=RateLimits()) as bot:
        tokens = [create_enrollment_token(bot.services, "mood", None, 7) for _ in range(40)]
        for index, token in enumerate(tokens):
            api.user_sends(CHAT + index, f"/start {token}")
        wait_for(lambda: all(api.sent(CHAT + i) for i in range(40)), timeout=30, what="every consent")
        for index in range(40):
            api.user_sends(CHAT + index, "I agree")
        wait_for(lambda: all(len(api.sent(CHAT + i)) == 3 for i in range(40)), timeout=30, what="every first question")
        assert api.too_many_requests == 0


def test_polling_confirms_an_update_to_telegram_only_after_storing_it(api, database_url):
    burst = 300  # a waiting room full of patients writing at once
    with RunningBot(api, database_url) as bot:
        for index in range(burst):
            api.user_sends(CHAT + index, "hello")
        furthest_ahead, deadline = 0, time.monotonic() + 60
        while (stored := count(bot, m.InboundEvent)) < burst and time.monotonic() < deadline:
            confirmed = burst - api.state.pending_count()  # read before `stored` below: never an overestimate
            furthest_ahead = max(furthest_ahead, confirmed - count(bot, m.InboundEvent))
        assert stored == burst
        # Telegram forgets a confirmed update: had one been confirmed before it was stored, a crash could lose it
        assert furthest_ahead <= 0


def test_webhook_stores_before_200_refuses_bad_secrets_and_ignores_redelivery(api, database_url):
    with httpx.Client() as client:
        port = _free_port()
        overrides = {"TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}", "TELEGRAM_WEBHOOK_SECRET": "s3cret-value",
                     "CAREBRIDGE_HTTP_PORT": port}
        with RunningBot(api, database_url, **overrides) as bot:
            assert api.webhook_url == f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
            token = create_enrollment_token(bot.services, "mood", None, 7)
            update = api.make_message_update(CHAT, f"/start {token}")
            url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
            for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: "s3cret-valuE"}):
                assert client.post(url, json=update, headers=headers).status_code == 401
            assert count(bot, m.InboundEvent) == 0
            assert client.post(url, json=update, headers={SECRET_HEADER: "s3cret-value"}).status_code == 200
            assert count(bot, m.InboundEvent) == 1 and count(bot, m.Patient) == 1  # stored before the 200
            assert client.post(url, json=update, headers={SECRET_HEADER: "s3cret-value"}).status_code == 200
            wait_for(lambda: api.sent(CHAT), what="the consent")
            assert count(bot, m.Patient) == 1 and count(bot, m.Outbox, m.Outbox.kind == "consent") == 1


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
