"""Check-in fan-out: 10,000 patients' PHQ-9 check-ins fall due at once while ~20 others answer a screening.

The database is prepared through the project's services (bench/clinic_checkins.toml): each patient is enrolled
with a Telegram chat, marked consented and idle as after an intake (two UPDATEs: the flow would need the whole
conversation), put in care (`start_care`, which schedules the check-in), and every check-in is then made due
now. `carebridge run` starts with the default TELEGRAM_RATE_LIMIT against a Bot API stand-in that enforces
Telegram's limits (30 messages/s overall, 1/s per chat with bursts of 3) and answers 429 beyond them. While the
check-ins (an introduction and a first question each) drain, ACTIVE patients enroll and answer a PHQ-9 in
closed loop, each pressing THINK seconds after its question arrives, a new patient taking the place of each one
who finishes. Prints 429s, the sustained delivery rate, the time to drain and the active patients' reply latency
(press -> next question stored at the stand-in), each against its target.

    .venv/bin/python bench/fanout.py --patients 10000 [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench]
"""

from __future__ import annotations

import argparse
import heapq
import queue
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, update  # noqa: E402

from bench.databases import scratch_database  # noqa: E402
from bench.harness import (  # noqa: E402
    FINISHED,
    latency_line,
    load_average,
    percentile,
    question_number,
    stamped_watch,
    start_carebridge,
    stop_carebridge,
)
from bot.bootstrap import bootstrap  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.services.checkins import start_care  # noqa: E402
from bot.services.enrollment import new_patient  # noqa: E402
from bot.standins.telegram.limits import LIMITED_METHODS  # noqa: E402
from bot.standins.telegram_api import FakeBotApi, RateLimits  # noqa: E402
from bot.store.tables import CONVERSATION, PATIENT, TIMER  # noqa: E402

CLINIC_FILE = ROOT / "bench" / "clinic_checkins.toml"
FANOUT_CHAT, ACTIVE_CHAT = 1_000_000, 3_000_000
MESSAGES_PER_CHECKIN = 2  # the check-in's introduction and its first question
BATCH = 500
STALL_SECONDS = 120


def prepare(url: str, patients: int) -> None:
    """Enroll the patients, consented and idle, put them in care, and make every check-in due now."""
    services = bootstrap(Settings(DATABASE_URL=url, CAREBRIDGE_CONFIG=str(CLINIC_FILE)))
    config, clinic = services.flow.config, services.flow.clinic("care")
    for start in range(0, patients, BATCH):
        now = services.now()
        with services.store.unit_of_work() as uow:
            for chat in range(FANOUT_CHAT + start, FANOUT_CHAT + min(patients, start + BATCH)):
                patient = new_patient(services, uow, "care", "telegram", str(chat), now)
                uow.conn.execute(update(PATIENT).where(PATIENT.c.id == patient.id).values(consented_at=now))
                uow.conn.execute(update(CONVERSATION).where(CONVERSATION.c.patient_id == patient.id)
                                 .values(state="idle"))
                start_care(uow, config, clinic, patient.id, "bench", now)
            uow.commit()
    with services.store.engine.begin() as conn:
        conn.execute(update(TIMER).where(TIMER.c.kind == "checkin:phq9", TIMER.c.fired_at.is_(None))
                     .values(due_at=services.now()))
    services.store.engine.dispose()


def timers_fired(url: str) -> tuple[int, float]:
    """Return how many check-in timers fired and the seconds between the first and the last."""
    services = bootstrap(Settings(DATABASE_URL=url, CAREBRIDGE_CONFIG=str(CLINIC_FILE)))
    with services.store.engine.connect() as conn:
        count, first, last = conn.execute(select(func.count(), func.min(TIMER.c.fired_at), func.max(TIMER.c.fired_at))
                                          .where(TIMER.c.kind == "checkin:phq9", TIMER.c.fired_at.is_not(None))).one()
    services.store.engine.dispose()
    return count, (last - first).total_seconds() if count else 0.0


class ActivePatients:
    """Patients answering a PHQ-9 in closed loop with a pause to think; a finished one is replaced by a new one."""

    def __init__(self, api: FakeBotApi, count: int, think: float):
        self.api, self.think = api, think
        self.next_chat = ACTIVE_CHAT
        self.presses: list[tuple[float, int, int, str]] = []  # (when, chat, message_id, data), a heap
        self.asked: dict[int, tuple[float, int]] = {}  # chat -> (press time, question number it answered)
        self.replies: list[tuple[float, float]] = []  # (press time, latency)
        for _ in range(count):
            self.enroll()

    def enroll(self) -> None:
        self.api.user_sends(self.next_chat, "/start c-active")
        self.next_chat += 1

    def arrived(self, at: float, message) -> None:
        """React to a message for an active patient."""
        number = question_number(message)
        if "I agree" in dict(message.buttons):
            heapq.heappush(self.presses, (at + self.think, message.chat_id, message.message_id,
                                          dict(message.buttons)["I agree"]))
        elif number is not None:
            pressed = self.asked.pop(message.chat_id, None)
            if pressed is not None and pressed[1] == number - 1:
                self.replies.append((pressed[0], at - pressed[0]))
            heapq.heappush(self.presses, (at + self.think, message.chat_id, message.message_id, message.buttons[0][1]))
        elif message.text.startswith(FINISHED):
            self.asked.pop(message.chat_id, None)
            self.enroll()

    def press_due(self, now: float) -> float:
        """Press what is due; return the seconds until the next press (at most 0.5)."""
        while self.presses and self.presses[0][0] <= now:
            _, chat, message_id, data = heapq.heappop(self.presses)
            message = self.api.state.find(chat, message_id)
            number = question_number(message) if message is not None else None
            pressed_at = time.monotonic()
            self.api.user_presses(chat, message_id, data)
            if number is not None:
                self.asked[chat] = (pressed_at, number)
        return min(0.5, self.presses[0][0] - now) if self.presses else 0.5


def drive(api: FakeBotApi, arrivals, patients: int, active: ActivePatients) -> list[float]:
    """Run the active patients until every check-in has arrived (or nothing came for a while); return arrival times."""
    fanout: list[float] = []
    expected = patients * MESSAGES_PER_CHECKIN
    last_progress = time.monotonic()
    while len(fanout) < expected and time.monotonic() - last_progress < STALL_SECONDS:
        wait = active.press_due(time.monotonic())
        try:
            at, message = arrivals.get(timeout=max(0.0, wait))
        except queue.Empty:
            continue
        chat = int(message.chat_id)
        if FANOUT_CHAT <= chat < ACTIVE_CHAT:
            fanout.append(at)
            last_progress = at
        else:
            active.arrived(at, message)
    return fanout


def run(patients: int, active_count: int, think: float, database_url: str | None) -> None:
    """Prepare, start the bot, drive the active patients through the drain, print the figures."""
    with tempfile.TemporaryDirectory(prefix="bench-fanout-") as folder, \
            scratch_database(database_url, Path(folder), "fanout") as url:
        began = time.monotonic()
        prepare(url, patients)
        print(f"prepared {patients} patients in care, check-ins due, in {time.monotonic() - began:.0f} s", flush=True)
        with FakeBotApi(limits=RateLimits()).running() as api:
            arrivals = stamped_watch(api)
            launched = time.monotonic()
            bot = start_carebridge(api, Path(folder), DATABASE_URL=url, CAREBRIDGE_CONFIG=str(CLINIC_FILE))
            try:
                active = ActivePatients(api, active_count, think)
                fanout = drive(api, arrivals, patients, active)
                load = load_average()
            finally:
                stop_carebridge(bot)
            calls = api.calls
            too_many = api.too_many_requests
        fired, firing = timers_fired(url)
    report(patients, fanout, calls, too_many, active, launched, firing, fired, load, think, url)


def report(patients, fanout, calls, too_many, active, launched, firing, fired, load, think, url) -> None:
    """Print the figures and whether each target is met."""
    engine = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    expected = patients * MESSAGES_PER_CHECKIN
    start, end = (fanout[0], fanout[-1]) if fanout else (launched, launched)
    window = max(end - start, 1e-9)
    sent = [c for c in calls if c.method.lower() in LIMITED_METHODS and c.status == 200 and start <= c.time <= end]
    rate_all, rate_checkins = len(sent) / window, max(0, len(fanout) - 1) / window
    during = [latency for pressed, latency in active.replies if start <= pressed <= end]
    p95 = percentile(during, 0.95) if during else float("inf")
    print(f"fan-out on {engine}: {patients} check-ins ({len(fanout)} of {expected} messages delivered), "
          f"{len(active.replies)} active answers, think {think} s; load average {load}")
    print(f"check-in timers fired: {fired} over {firing:.1f} s")
    print(f"429 answers from the stand-in: {too_many}  (target 0: {'met' if too_many == 0 else 'NOT met'})")
    print(f"sustained delivery over the drain: {rate_all:.1f} messages/s all, {rate_checkins:.1f}/s check-ins "
          f"(target >= 28/s: {'met' if rate_all >= 28 else 'NOT met'})")
    print(f"time to drain: {end - launched:.0f} s from launching the bot, {end - start:.0f} s from the first "
          f"check-in message to the last")
    print(latency_line("active patients' reply latency during the drain", during, (0.5, 0.95)))
    print(f"reply latency p95 {p95:.2f} s (target <= 1.5 s: {'met' if p95 <= 1.5 else 'NOT met'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000, help="patients whose check-in falls due")
    parser.add_argument("--active", type=int, default=20, help="patients answering a screening meanwhile")
    parser.add_argument("--think", type=float, default=3.0, help="seconds an active patient takes to answer")
    parser.add_argument("--database-url", help="PostgreSQL server and database to create the run's database beside")
    args = parser.parse_args()
    run(args.patients, args.active, args.think, args.database_url)


if __name__ == "__main__":
    main()
