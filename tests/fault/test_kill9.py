"""kill -9: `carebridge run` killed at random moments while patients answer; nothing lost, nothing twice."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from bot.bootstrap import bootstrap
from bot.config import Settings
from bot.services.enrollment import create_enrollment_token
from bot.standins.slack import FakeSlackApi
from bot.standins.telegram.app import FakeBotApi
from bot.store.tables import ANSWER, CHAT_LINK, HANDOFF, OUTBOX, PATIENT, SCREENING
from tests.store_fixtures import FIXTURES

pytestmark = pytest.mark.fault
CAREBRIDGE = str(Path(sys.executable).with_name("carebridge"))
CHANNEL = "C0TEAMBH"
PATIENTS = [9001 + n for n in range(6)]
KILLS = 6  # at random moments, and once more while the first page is being posted
# The plan every patient follows: PHQ-2 2, 2 (positive), PHQ-9 items 3-8 at 2, item 9 "Not at all", difficulty 1:
# PHQ-9 of 16, which offers a talk with the team; each patient says yes, which pages the team.
EXPECTED = {("phq2", "q1"): 2, ("phq2", "q2"): 2, **{("phq9", f"q{n}"): 2 for n in range(3, 9)},
            ("phq9", "q9"): 0, ("phq9", "difficulty"): 1}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def choose(message) -> str:
    """Return the callback data a patient following the plan presses under this message."""
    labels = [label for label, _ in message.buttons]
    if "I agree" in labels or "Yes, connect me" in labels:
        return message.buttons[0][1]
    if "better off dead" in message.text:
        return message.buttons[labels.index("Not at all")][1]
    if "Somewhat difficult" in labels:
        return message.buttons[labels.index("Somewhat difficult")][1]
    return message.buttons[labels.index("More than half the days")][1]


class Patients:
    """Simulated patients who press the plan's answer under the newest question they see."""

    def __init__(self, api: FakeBotApi):
        self.api = api
        self.pressed: dict[int, set[int]] = {chat: set() for chat in PATIENTS}

    def act(self) -> None:
        for chat in PATIENTS:
            asked = [m for m in self.api.sent(chat) if m.buttons]
            if asked and asked[-1].message_id not in self.pressed[chat]:
                self.pressed[chat].add(asked[-1].message_id)
                self.api.user_presses(chat, asked[-1].message_id, choose(asked[-1]))

    def done(self) -> bool:
        return all(any("will contact you" in m.text for m in self.api.sent(chat)) for chat in PATIENTS)


def start_bot(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen([CAREBRIDGE, "run"], env=env, stdout=out, stderr=subprocess.STDOUT)


def stored(database_url: str) -> tuple[list, list, list]:
    """Return every answer and screening with its chat, and every handoff's patient code."""
    engine = create_engine(database_url)
    linked = SCREENING.join(CHAT_LINK, CHAT_LINK.c.patient_id == SCREENING.c.patient_id)
    try:
        with engine.connect() as conn:
            answers = conn.execute(select(CHAT_LINK.c.chat_id, ANSWER.c.instrument, ANSWER.c.item, ANSWER.c.value)
                                   .select_from(ANSWER.join(linked, SCREENING.c.id == ANSWER.c.screening_id))).all()
            screenings = conn.execute(select(CHAT_LINK.c.chat_id, SCREENING.c.status).select_from(linked)).all()
            codes = conn.execute(select(PATIENT.c.code).select_from(
                HANDOFF.join(PATIENT, PATIENT.c.id == HANDOFF.c.patient_id))).scalars().all()
            return answers, screenings, codes
    finally:
        engine.dispose()


def pending_pages(database_url: str) -> int:
    """Return how many Slack rows still wait in the outbox."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(OUTBOX).where(
                OUTBOX.c.platform == "slack", OUTBOX.c.status == "pending")).scalar_one()
    finally:
        engine.dispose()


def test_killed_at_random_the_bot_stores_every_answer_once_and_pages_each_patient_once(database_url, tmp_path):
    slack = FakeSlackApi(events_url=f"http://127.0.0.1:{free_port()}/slack/events")
    slack.add_channel(CHANNEL, "team-bh")
    with FakeBotApi().running() as telegram, slack.running():
        env = {**os.environ, "DATABASE_URL": database_url, "CAREBRIDGE_CONFIG": str(FIXTURES / "clinic.toml"),
               "TELEGRAM_BOT_TOKEN": telegram.token, "TELEGRAM_API_BASE_URL": telegram.base_url,
               "SLACK_BOT_TOKEN": slack.token, "SLACK_SIGNING_SECRET": slack.signing_secret,
               "SLACK_API_URL": slack.base_url, "CAREBRIDGE_HTTP_PORT": str(free_port())}
        services = bootstrap(Settings(DATABASE_URL=database_url, CAREBRIDGE_CONFIG=str(FIXTURES / "clinic.toml")))
        for chat in PATIENTS:
            telegram.user_sends(chat, f"/start {create_enrollment_token(services, 'team', None, 7)}")
        services.store.engine.dispose()
        patients, log, rng = Patients(telegram), tmp_path / "carebridge.log", random.Random(4711)
        slack.delay_next("chat.postMessage", 1.0)  # Slack is slow with the first page, and the bot dies meanwhile
        bot, kills, killed_posting = start_bot(env, log), 0, False
        deadline = time.monotonic() + 150
        kill_at = time.monotonic() + rng.uniform(2.5, 5)
        try:
            while not patients.done() and time.monotonic() < deadline:
                patients.act()
                if not killed_posting and slack.calls_of("chat.postMessage"):
                    bot.send_signal(signal.SIGKILL)
                    bot.wait(timeout=10)
                    bot, killed_posting = start_bot(env, log), True
                if kills < KILLS and time.monotonic() >= kill_at:
                    bot.send_signal(signal.SIGKILL)
                    bot.wait(timeout=10)
                    kills += 1
                    bot, kill_at = start_bot(env, log), time.monotonic() + rng.uniform(2.5, 5)
                time.sleep(0.05)
            settle = time.monotonic() + 15  # the last pages leave the outbox
            while time.monotonic() < settle and pending_pages(database_url):
                time.sleep(0.1)
        finally:
            bot.send_signal(signal.SIGINT)
            bot.wait(timeout=30)
        output = log.read_text(encoding="utf-8", errors="replace")
        assert patients.done(), f"not every patient finished after {kills} kills:\n{output[-3000:]}"
        assert kills == KILLS and killed_posting
        pages = [m.text for m in slack.messages(CHANNEL) if m.thread_ts is None]

    answers, screenings, handoff_codes = stored(database_url)
    assert len(set(handoff_codes)) == len(handoff_codes) == len(PATIENTS)
    assert {code: sum(code in page for page in pages) for code in handoff_codes} == dict.fromkeys(handoff_codes, 1)
    assert len(pages) == len(PATIENTS)  # each patient paged once: none lost, none posted twice
    assert slack.calls_of("conversations.history")  # the restarted bot looked before posting that page again
    for chat in PATIENTS:
        mine = [(instrument, item, value) for chat_id, instrument, item, value in answers if chat_id == str(chat)]
        assert sorted(mine) == sorted((i, item, v) for (i, item), v in EXPECTED.items()), chat  # each exactly once
        assert [status for chat_id, status in screenings if chat_id == str(chat)] == ["completed"]
    assert "Traceback" not in output
