"""Logs never carry secrets, enrollment tokens, free text or answers: a whole screening, a page accepted in Slack and
refused Slack requests, logged as production logs them even at DEBUG with the libraries turned up."""

from __future__ import annotations

import io
import json
import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from bot.adapters.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH
from bot.logs import QUIET, REDACTED, configure_logging
from bot.services.enrollment import create_enrollment_token
from bot.standins.slack_api import FakeSlackApi
from bot.standins.telegram.app import FakeBotApi
from tests.e2e.telegram_harness import RunningBot, last_message, wait_for

pytestmark = pytest.mark.fuzz
BOT_TOKEN = "7012345678:AAHcareBridgeFuzzToken_0123456789abc"
SLACK_TOKEN, SIGNING_SECRET = "xoxb-7012-fuzz-carebridge-bot-token", "5ec7e7-fuzz-signing-secret-of-the-app"
WEBHOOK_SECRET = "fuzz-webhook-secret-91c2"
FREE_TEXT = "Zanzibar quokka lives on Elm Street 42"  # typed where an answer was expected
ANSWERS = ("More than half the days", "Nearly every day")  # typed answers (also the words of the options)
SLASH_TEXT = "OPHELIA-RASMUSSEN-DOB-1961"  # what a clinician typed after /registry (echoed in capitals)
MRN = "MRN-5150-QX"
CHAT, CHANNEL = 6660001, "C0TEAMBH"
LEAKED_BY_MODE = {"webhook": {"webhook secret"}, "polling": {"free text", "enrollment token", "crisis words"}}
FORMAT_BY_MODE = {"webhook": "json", "polling": "text"}  # each log format runs a whole day once


class Raw(logging.Handler):
    """Keep, as emitted, every record that reaches the root logger (before any handler's filter changes it)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append((record.name, record.getMessage() + json.dumps(record.__dict__, default=str)))


@contextmanager
def production_logging(stream: io.StringIO, log_format: str = "text") -> Iterator[Raw]:
    """configure_logging at DEBUG with the bot's secrets, the chatty libraries turned up too; restore afterwards."""
    root, manager = logging.getLogger(), logging.Logger.manager
    levels = {name: lg.level for name, lg in manager.loggerDict.items() if isinstance(lg, logging.Logger)}
    root_level, raw = root.level, Raw()
    root.handlers.insert(0, raw)
    handler = configure_logging(logging.DEBUG, stream=stream,
                                secrets=[BOT_TOKEN, WEBHOOK_SECRET, SLACK_TOKEN, SIGNING_SECRET], log_format=log_format)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield raw
    finally:
        root.removeHandler(handler)
        root.removeHandler(raw)
        root.setLevel(root_level)
        for name, lg in manager.loggerDict.items():
            if isinstance(lg, logging.Logger):
                lg.setLevel(levels.get(name, logging.NOTSET))


def wrote_at(written: str, log_format: str, level: str, logger: str) -> bool:
    """Say whether a line of this level and logger was written (every JSON line must parse)."""
    if log_format == "json":
        return (level, logger) in {(line["level"], line["logger"]) for line in map(json.loads, written.splitlines())}
    return f" {level} {logger} " in written


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def a_day_at_the_clinic(database_url: str, mode: str) -> str:
    """Enroll by link, consent, type nonsense and answers, write a crisis phrase (through the webhook or by
    polling); Slack pages, one accepts; a clinician's /registry arrives stale (refused), then fresh. Return the
    enrollment token."""
    port = free_port()
    slack = FakeSlackApi(token=SLACK_TOKEN, signing_secret=SIGNING_SECRET,
                         events_url=f"http://127.0.0.1:{port}/slack/events")
    slack.add_channel(CHANNEL, "team-bh")
    for user in ("U0DANA", "U0BEN"):
        slack.add_user(user, user.lower())
    webhook = {"TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}", "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET}
    with FakeBotApi(token=BOT_TOKEN).running() as api, slack.running(), RunningBot(
            api, database_url, SLACK_BOT_TOKEN=SLACK_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack.base_url, CAREBRIDGE_HTTP_PORT=port, **(webhook if mode == "webhook" else {})) as bot, \
            httpx.Client(trust_env=False, timeout=10) as client:
        token = create_enrollment_token(bot.services, "team", MRN, 7)
        for count, text in enumerate([f"/start {token}", "I agree", FREE_TEXT, *ANSWERS, "I want to kill myself"]):
            if mode == "webhook":
                posted = client.post(f"http://127.0.0.1:{port}{WEBHOOK_PATH}", json=api.make_message_update(CHAT, text),
                                     headers={SECRET_HEADER: WEBHOOK_SECRET})
                assert posted.status_code == 200
            else:
                api.user_sends(CHAT, text)
            last_message(api, CHAT, [1, 3, 5, 6, 7, 9][count])
        page = wait_for(lambda: [m for m in slack.messages(CHANNEL) if m.buttons], what="the page")[0]
        assert slack.press_button("U0DANA", CHANNEL, page.ts, "handoff:accept", page.buttons[0][1]).status_code == 200
        wait_for(lambda: any("Dana" in m.text for m in api.sent(CHAT)), what="the patient told who will call")
        stale = slack.send(slack.make_slash_command("U0BEN", "/registry", SLASH_TEXT), signing="stale")
        assert stale.status_code == 401
        assert slack.slash_command("U0BEN", "/registry", SLASH_TEXT).status_code == 200
        wait_for(lambda: slack.ephemerals("U0BEN"), what="the answer to /registry")
    return token


@pytest.mark.parametrize("mode", ["webhook", "polling"])
def test_production_logs_carry_no_secret_token_free_text_or_answer(database_url, mode):
    stream = io.StringIO()
    with production_logging(stream, FORMAT_BY_MODE[mode]) as raw:
        token = a_day_at_the_clinic(database_url, mode)
        # After the bot's own HTTP server ran, uvicorn's records still go through the CareBridge handler.
        logging.getLogger("uvicorn.error").error("Exception in ASGI application at /bot%s/getMe", BOT_TOKEN)
    written = stream.getvalue()
    assert f"Exception in ASGI application at /bot{REDACTED}/getMe" in written
    sensitive = {"bot token": BOT_TOKEN, "bot token (secret part)": BOT_TOKEN.split(":")[1], "slack token": SLACK_TOKEN,
                 "signing secret": SIGNING_SECRET, "webhook secret": WEBHOOK_SECRET, "enrollment token": token,
                 "free text": FREE_TEXT, "answer": ANSWERS[0], "other answer": ANSWERS[1], "crisis words": "kill myself",
                 "slash text": SLASH_TEXT, "MRN": MRN}
    assert wrote_at(written, FORMAT_BY_MODE[mode], "DEBUG", "asyncio")  # the log is written, at DEBUG (either database)
    assert [name for name, value in sensitive.items() if value in written] == []
    own = [(name, text) for name, text in raw.seen if name == "bot" or name.startswith("bot.")]
    assert [(name, what) for name, text in own for what, value in sensitive.items() if value in text] == []
    # What the filters kept out: the libraries, turned up, logged these (so this test can fail).
    leaked = {what for name, text in raw.seen for what, value in sensitive.items() if value in text}
    assert {"bot token", "answer", "slash text"} | LEAKED_BY_MODE[mode] <= leaked


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_a_library_logging_below_warning_is_dropped_whatever_level_it_was_given(log_format):
    stream = io.StringIO()
    with production_logging(stream, log_format):
        bolt = logging.getLogger("slack_bolt.RequestVerification")
        bolt.setLevel(logging.INFO)  # what bolt does: its loggers take the root logger's level when created
        bolt.info("Invalid request signature detected (body: text=%s)", SLASH_TEXT)
        logging.getLogger("telegram.ext.ExtBot").warning("Error at https://api.telegram.org/bot%s/getMe", BOT_TOKEN)
        try:
            raise ConnectionError(f"cannot reach /bot{BOT_TOKEN}/sendMessage with {SLACK_TOKEN}")
        except ConnectionError:
            logging.getLogger("uvicorn.error").exception("request failed")
        record_with = logging.getLogger("bot.worker.delivery")
        record_with.warning("delivery failed", extra={"reason": f"401 for xoxp-1234-5678-abcdefgh and {WEBHOOK_SECRET}"})
    written = stream.getvalue()
    assert SLASH_TEXT not in written
    assert f"https://api.telegram.org/bot{REDACTED}/getMe" in written and BOT_TOKEN not in written
    assert "ConnectionError: cannot reach" in written and SLACK_TOKEN not in written
    assert written.count("delivery failed") == 1


def test_extra_fields_are_redacted_too():
    handler_records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            handler_records.append(record)

    keep = Keep()
    with production_logging(io.StringIO()):
        logging.getLogger().addHandler(keep)  # after the CareBridge handler: sees records as it left them
        try:
            logging.getLogger("bot.adapters.slack").warning("x", extra={"error": f"token {SLACK_TOKEN} refused"})
        finally:
            logging.getLogger().removeHandler(keep)
    [record] = [r for r in handler_records if r.name == "bot.adapters.slack"]
    assert record.error == f"token {REDACTED} refused"
