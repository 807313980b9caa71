"""kill -9: `carebridge run` killed at random moments while patients answer; nothing lost, nothing twice."""

from __future__ import annotations

import os
import random
import signal
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
from tests.fault.patients import EXPECTED, Patients, free_port
from tests.store_fixtures import FIXTURES

pytestmark = pytest.mark.fault
CAREBRIDGE = str(Path(sys.executable).with_name("carebridge"))
CHANNEL = "C0TEAMBH"
PATIENTS = [9001 + n for n in range(6)]
KILLS = 6  # at random moments, and once more while the first page is being posted
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
        patients, log, rng = Patients(telegram, PATIENTS), tmp_path / "carebridge.log", random.Random(4711)
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
