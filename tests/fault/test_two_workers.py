"""Two servers and two workers on one PostgreSQL: answers, accepts, timers and outbox rows each handled once."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select, text, update

from bot.bootstrap import bootstrap, utc_now
from bot.config import Settings
from bot.services.care_start import put_in_care
from bot.services.enrollment import create_enrollment_token, enroll_chat
from bot.standins.slack import FakeSlackApi
from bot.standins.telegram.app import FakeBotApi
from bot.standins.telegram.limits import LIMITED_METHODS, RateLimits
from bot.store.tables import AUDIT, CONVERSATION, HANDOFF, OUTBOX, PATIENT, TIMER
from tests.fault.patients import EXPECTED, Patients, free_port
from tests.fault.test_kill9 import CAREBRIDGE, stored
from bot.standins.telegram.push import WebhookPusher
from tests.fault.servers import serving
from tests.store_fixtures import FIXTURES, reset_postgresql

pytestmark = [pytest.mark.fault, pytest.mark.store,
              pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="many workers need PostgreSQL")]

CHANNEL, BEN, DANA = "C0TEAMBH", "U0BEN", "U0DANA"
SECRET = "two-workers-webhook-secret"
PATIENTS = [9101 + n for n in range(8)]  # screen by buttons and are paged
IN_CARE = [9201 + n for n in range(60)]  # their check-ins all fall due at once: a burst across both workers
CHECKIN_INTRO = "Time for your regular check-in"
QUESTION = re.compile(r"(\d+) of \d+\n")  # a question's first line: "3 of 9"


def clinic_file(folder: Path) -> Path:
    """Return the test clinic file without quiet hours, so that check-ins go whatever the hour in Chicago."""
    path = folder / "clinic.toml"
    quiet = '\n[care.quiet_hours]\nstart = "00:00"\nend = "00:00"\n'
    path.write_text((FIXTURES / "clinic.toml").read_text(encoding="utf-8") + quiet, encoding="utf-8")
    return path


def prepared_database(clinic: Path) -> tuple[str, list[str]]:
    """Return the upgraded database with enrollment links for PATIENTS, and IN_CARE patients due a check-in."""
    url = os.environ["TEST_DATABASE_URL"]
    reset_postgresql(url)
    subprocess.run([CAREBRIDGE, "db", "upgrade"], env={**os.environ, "DATABASE_URL": url}, check=True,
                   capture_output=True)
    services = bootstrap(Settings(DATABASE_URL=url, CAREBRIDGE_CONFIG=str(clinic)))
    tokens = [create_enrollment_token(services, "team", None, 7) for _ in PATIENTS]
    for chat in IN_CARE:
        put_in_care(services, ["team"], enroll_chat(services, "team", "telegram", str(chat)), "test")
    with services.store.engine.begin() as conn:  # they consented and finished their intake long ago
        conn.execute(update(PATIENT).values(consented_at=utc_now() - timedelta(days=14)))
        conn.execute(update(CONVERSATION).values(state="idle"))
        conn.execute(update(TIMER).where(TIMER.c.kind.like("checkin:%"))
                     .values(due_at=utc_now() - timedelta(minutes=1)))
    services.store.engine.dispose()
    return url, tokens


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen([CAREBRIDGE, *command], env=env, stdout=out, stderr=subprocess.STDOUT)


def metric(server: str, name: str) -> float:
    """Return the sum of a metric's samples (every label set) as /metrics shows it now."""
    lines = httpx.get(f"{server}/metrics", timeout=5, trust_env=False).text.splitlines()
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines if line.split("{")[0].split(" ")[0] == name)


def count(url: str, query) -> list:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(query).all()
    finally:
        engine.dispose()


def refusals(telegram: FakeBotApi) -> list[tuple]:
    """Describe each 429: its chat, and the sends the stand-in took in the second before, overall and to that chat."""
    calls = [c for c in telegram.calls if c.method.lower() in LIMITED_METHODS and c.status is not None]
    found = []
    for call in (c for c in calls if c.status == 429):
        before = [c for c in calls if call.time - 1 <= c.time < call.time and c.status == 200]
        found.append((call.chat_id, len(before), sum(c.chat_id == call.chat_id for c in before)))
    return found


def accept_at_once(slack: FakeSlackApi, page, urls: list[str]) -> list[int]:
    """Press Accept on one page as Ben on one server and as Dana on the other, at the same moment."""
    ref = dict((action, value) for action, value, _ in page.buttons)["handoff:accept"]
    presses = [slack.make_button_press(user, CHANNEL, page.ts, "handoff:accept", ref, url=url)
               for user, url in zip((BEN, DANA), urls, strict=True)]
    barrier = threading.Barrier(2)

    def press(request) -> int:
        barrier.wait()
        return slack.send(request).status_code

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(press, presses))


def test_two_servers_and_two_workers_handle_everything_once_within_the_limits(tmp_path):
    clinic = clinic_file(tmp_path)
    url, tokens = prepared_database(clinic)
    ports, metrics_port = [free_port(), free_port()], free_port()
    slack = FakeSlackApi(events_url=f"http://127.0.0.1:{ports[0]}/slack/events")
    slack.add_channel(CHANNEL, "team-bh")
    with FakeBotApi(limits=RateLimits()).running() as telegram, slack.running():
        env = {**os.environ, "DATABASE_URL": url, "CAREBRIDGE_CONFIG": str(clinic),
               "TELEGRAM_BOT_TOKEN": telegram.token, "TELEGRAM_API_BASE_URL": telegram.base_url,
               "TELEGRAM_WEBHOOK_URL": "https://carebridge.example.org", "TELEGRAM_WEBHOOK_SECRET": SECRET,
               "SLACK_BOT_TOKEN": slack.token, "SLACK_SIGNING_SECRET": slack.signing_secret,
               "SLACK_API_URL": slack.base_url}
        log = tmp_path / "carebridge.log"
        processes = [start(["serve"], {**env, "CAREBRIDGE_HTTP_PORT": str(port)}, log) for port in ports]
        processes += [start(["worker", "--metrics-port", str(metrics_port)], env, log), start(["worker"], env, log)]
        servers = [f"http://127.0.0.1:{port}" for port in ports]
        pusher = WebhookPusher(telegram, [f"{server}/telegram/webhook" for server in servers], SECRET)
        try:
            serving(servers + [f"http://127.0.0.1:{metrics_port}"], processes)
            pusher.start()
            for chat, token in zip(PATIENTS, tokens, strict=True):
                telegram.user_sends(chat, f"/start {token}")
            patients = Patients(telegram, PATIENTS)
            deadline = time.monotonic() + 120
            while len([m for m in slack.messages(CHANNEL) if m.thread_ts is None]) < len(PATIENTS):
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                patients.act()
                time.sleep(0.05)
            pages = [m for m in slack.messages(CHANNEL) if m.thread_ts is None]
            statuses = [accept_at_once(slack, page, [f"{server}/slack/events" for server in servers]) for page in pages]
            while not (patients.done() and all(
                    any(CHECKIN_INTRO in m.text for m in telegram.sent(chat)) for chat in IN_CARE)):
                assert time.monotonic() < deadline, (
                    patients.done(), [chat for chat in IN_CARE if not telegram.sent(chat)],
                    count(url, select(OUTBOX.c.platform, OUTBOX.c.kind, func.count()).where(
                        OUTBOX.c.status == "pending").group_by(OUTBOX.c.platform, OUTBOX.c.kind)),
                    count(url, select(TIMER.c.kind, TIMER.c.fired_at, TIMER.c.claimed_until).limit(3)),
                    log.read_text()[-3000:])
                patients.act()
                time.sleep(0.05)
            settle = time.monotonic() + 20
            while count(url, select(func.count()).select_from(OUTBOX).where(OUTBOX.c.status == "pending"))[0][0]:
                assert time.monotonic() < settle, "the outbox did not drain"
                time.sleep(0.1)
            time.sleep(1)  # let the last deliveries be recorded
            holders = count(url, text("SELECT DISTINCT holder FROM deliverylease"))
            scraped = {"sent by the first worker": metric(f"http://127.0.0.1:{metrics_port}",
                                                          "carebridge_deliveries_total"),
                       "pending": metric(servers[0], "carebridge_outbox_pending"),
                       "database up": metric(servers[1], "carebridge_database_up"),
                       "events on a server": metric(servers[0], "carebridge_events_total")}
        finally:
            pusher.stop()
            for process in processes:
                process.send_signal(signal.SIGINT)
            for process in processes:
                process.wait(timeout=30)
        output = log.read_text(encoding="utf-8", errors="replace")

        assert all(status == [200, 200] for status in statuses)
        assert scraped["sent by the first worker"] > 0 and scraped["events on a server"] > 0, scraped
        assert (scraped["pending"], scraped["database up"]) == (0, 1), scraped
        assert telegram.too_many_requests == 0, refusals(telegram)  # 30/s overall and 1/s a chat, across both
        sends = Counter(call.chat_id for call in telegram.calls
                        if call.method.lower() in ("sendmessage", "editmessagetext") and call.status == 200)
        delivered = Counter(row.recipient for row in count(url, select(OUTBOX.c.recipient).where(
            OUTBOX.c.platform == "telegram", OUTBOX.c.status == "sent")))
        assert {str(chat): n for chat, n in sends.items()} == dict(delivered)  # every row sent, and only once
        assert len(holders) == 2, "both workers delivered"
        for chat in IN_CARE:
            assert sum(CHECKIN_INTRO in m.text for m in telegram.sent(chat)) == 1, chat  # each timer fired once
        for chat in PATIENTS:
            numbers = [int(found[1]) for m in telegram.sent(chat) if (found := QUESTION.match(m.text))]
            assert numbers and numbers == sorted(numbers), chat  # the chat's questions arrived in order
        pages_now = [m.text for m in slack.messages(CHANNEL) if m.thread_ts is None]
    answers, screenings, codes = stored(url)
    assert len(pages_now) == len(set(codes)) == len(codes) == len(PATIENTS)  # each patient paged once
    for chat in PATIENTS:
        mine = [(instrument, item, value) for chat_id, instrument, item, value in answers if chat_id == str(chat)]
        assert sorted(mine) == sorted((i, item, v) for (i, item), v in EXPECTED.items()), chat
        told = [m.text for m in telegram.sent(chat) if "Ben Okafor" in m.text or "Dana Ortiz" in m.text]
        assert len(told) == 1, chat  # the patient hears once who will call, whoever won the race
    accepted = count(url, select(HANDOFF.c.accepted_by))
    assert len(accepted) == len(PATIENTS) and {who for (who,) in accepted} <= {BEN, DANA}
    audits = count(url, select(AUDIT.c.action, func.count()).where(AUDIT.c.action.like("%accept%"))
                   .group_by(AUDIT.c.action))
    assert all(n == len(PATIENTS) for _, n in audits), audits
    assert "Traceback" not in output, output[-3000:]


def pending_rows(url: str) -> int:
    """Return how many outbox rows are still to send."""
    return count(url, select(func.count()).select_from(OUTBOX).where(OUTBOX.c.status == "pending"))[0][0]


def test_a_worker_killed_mid_fan_out_leaves_its_chats_to_the_other_and_nothing_is_lost(tmp_path):
    clinic = clinic_file(tmp_path)
    url, _ = prepared_database(clinic)
    with FakeBotApi(limits=RateLimits()).running() as telegram:
        env = {**os.environ, "DATABASE_URL": url, "CAREBRIDGE_CONFIG": str(clinic),
               "TELEGRAM_BOT_TOKEN": telegram.token, "TELEGRAM_API_BASE_URL": telegram.base_url,
               "TELEGRAM_WEBHOOK_URL": "https://carebridge.example.org", "TELEGRAM_WEBHOOK_SECRET": SECRET}
        log = tmp_path / "carebridge.log"
        workers = [start(["worker"], env, log), start(["worker"], env, log)]
        doomed = None
        try:
            deadline = time.monotonic() + 90
            while doomed is None:  # the first worker to lease chats is killed: which one it is, is a race
                assert time.monotonic() < deadline and all(w.poll() is None for w in workers), log.read_text()[-3000:]
                holders = {row[0] for row in count(url, text("SELECT DISTINCT holder FROM deliverylease"))}
                pids = {int(holder.rsplit(":", 2)[1]) for holder in holders}  # a holder is named host:pid:random
                doomed = next((worker for worker in workers if worker.pid in pids), None)
                time.sleep(0.02)
            survivor = next(worker for worker in workers if worker is not doomed)
            doomed.send_signal(signal.SIGKILL)  # mid fan-out: it holds chats, some rows sent and not yet recorded
            doomed.wait(timeout=10)
            killed_at = time.monotonic()
            # Every chat has the intro and the first question, and no row waits: a resend of a row the killed worker
            # sent but had not recorded also counts as a send, so the count alone may be reached early.
            while not (all(len(telegram.sent(chat)) >= 2 for chat in IN_CARE) and pending_rows(url) == 0):
                assert time.monotonic() < deadline and survivor.poll() is None, log.read_text()[-3000:]
                time.sleep(0.1)
            took_over = time.monotonic() - killed_at
        finally:
            for process in workers:
                if process.poll() is None:
                    process.send_signal(signal.SIGINT)
                    process.wait(timeout=30)
        sends = Counter(call.chat_id for call in telegram.calls
                        if call.method.lower() == "sendmessage" and call.status == 200)
        assert telegram.too_many_requests == 0, refusals(telegram)
    assert took_over < 40  # its chats wait out their 15 s leases, its claimed timers their 10 s claims
    assert pending_rows(url) == 0
    # At least once: a row the killed worker sent but had not yet recorded as sent goes again, at most its last pass.
    again = sum(n - 2 for n in sends.values())
    assert 0 <= again <= 15 and set(sends) == set(IN_CARE)
    assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace")
