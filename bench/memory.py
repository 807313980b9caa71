"""Resident memory of `carebridge run` with 10,000 PHQ-9 screenings in progress.

N simulated patients enroll through the clinic's open enrollment (`/start c-bench`, bench/clinic.toml), consent
and answer the first ITEMS questions of a PHQ-9, then stop answering: every screening stays open. The bot runs
with TELEGRAM_RATE_LIMIT=100000 (the per-chat limit still holds) so that the set-up takes minutes, not hours.
Prints VmRSS and VmHWM (peak) of the bot's process from /proc/<pid>/status at start, before any patient, and at
rest once all screenings are in progress and nothing has been sent for a while. With --tracemalloc the bot
runs under tracemalloc (far slower, and its RSS then includes tracemalloc's own) and the allocation sites that
grew most between start and rest are printed too.

    .venv/bin/python bench/memory.py --patients 10000 [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench]
"""

from __future__ import annotations

import argparse
import os
import queue
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.databases import scratch_database  # noqa: E402
from bench.harness import (  # noqa: E402
    button,
    load_average,
    memory_kb,
    question_number,
    stamped_watch,
    start_carebridge,
    stop_carebridge,
    wait,
)
from bot.standins.telegram_api import FakeBotApi  # noqa: E402

FIRST_CHAT = 2_000_000
QUIET_SECONDS = 5  # nothing sent for this long: the bot is at rest
REST_SECONDS = 10  # then this much longer before reading its memory
TRACED = """
import os, signal, sys, tracemalloc
OUT, SNAPSHOTS = sys.argv[1], []
tracemalloc.start(4)
def dump(*_):
    SNAPSHOTS.append(tracemalloc.take_snapshot())
    if len(SNAPSHOTS) < 2:  # the first signal takes the snapshot to compare with
        open(OUT + ".first", "w").close()
        return
    stats = SNAPSHOTS[1].compare_to(SNAPSHOTS[0], "traceback")
    lines = [f"{sum(s.size_diff for s in stats) / 1024:+10.0f} kB in all"] + [
        f"{s.size_diff / 1024:+10.0f} kB {s.count_diff:+9d} blocks  " + " > ".join(
        f"{f.filename.rsplit('site-packages/', 1)[-1].rsplit('/main/', 1)[-1]}:{f.lineno}" for f in s.traceback)
        for s in stats[:25]]
    open(OUT + ".tmp", "w").write("\\n".join(lines))
    os.replace(OUT + ".tmp", OUT)
signal.signal(signal.SIGUSR1, dump)
from bot.cli import main
sys.argv = ["carebridge", "run"]
main()
"""


def mb(kb: int) -> str:
    """Return kB as megabytes with one decimal."""
    return f"{kb / 1024:.1f} MB"


def enroll_and_answer(api: FakeBotApi, arrivals, patients: int, items: int) -> float:
    """Enroll the patients and answer `items` questions each; return the seconds it took."""
    started = time.monotonic()
    for chat in range(FIRST_CHAT, FIRST_CHAT + patients):
        api.user_sends(chat, "/start c-bench")
    waiting: set = set()
    while len(waiting) < patients:
        _, message = arrivals.get(timeout=600)
        number = question_number(message)
        if "I agree" in dict(message.buttons):
            api.user_presses(message.chat_id, message.message_id, button(message, "I agree"))
        elif number is not None and number <= items:
            api.user_presses(message.chat_id, message.message_id, message.buttons[0][1])
        elif number == items + 1 and message.chat_id not in waiting:
            waiting.add(message.chat_id)
            if len(waiting) % 1000 == 0:
                print(f"  {len(waiting)} screenings in progress after {time.monotonic() - started:.0f} s", flush=True)
    return time.monotonic() - started


def at_rest(api: FakeBotApi, arrivals) -> None:
    """Wait until the bot has sent nothing for QUIET_SECONDS, then REST_SECONDS more."""
    last = len(api.state.calls)
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < QUIET_SECONDS:
        time.sleep(0.5)
        with api.state.lock:
            sent = sum(c.method.lower() != "getupdates" for c in api.state.calls[last:])
            last = len(api.state.calls)
        if sent:
            quiet_since = time.monotonic()
    while True:  # drop what the watcher collected
        try:
            arrivals.get_nowait()
        except queue.Empty:
            break
    time.sleep(REST_SECONDS)


def run(patients: int, items: int, database_url: str | None, traced: bool) -> None:
    """Start the bot, read its memory, bring the screenings into progress, read it again."""
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as folder, \
            scratch_database(database_url, Path(folder), "memory") as url, FakeBotApi().running() as api:
        arrivals = stamped_watch(api)
        dump = Path(folder) / "tracemalloc.txt"
        command = [sys.executable, "-c", TRACED, str(dump)] if traced else None
        bot = start_carebridge(api, Path(folder), command, DATABASE_URL=url, TELEGRAM_RATE_LIMIT="100000",
                               CAREBRIDGE_CONFIG=str(ROOT / "bench" / "clinic.toml"))
        try:
            time.sleep(REST_SECONDS)
            start = memory_kb(bot.pid)
            if traced:
                os.kill(bot.pid, signal.SIGUSR1)
                wait(Path(f"{dump}.first").exists, 300, "the first tracemalloc snapshot")
            seconds = enroll_and_answer(api, arrivals, patients, items)
            at_rest(api, arrivals)
            rest = memory_kb(bot.pid)
            load = load_average()
            if traced:
                os.kill(bot.pid, signal.SIGUSR1)
                wait(dump.exists, 900, "the tracemalloc snapshot")
                top = dump.read_text()
        finally:
            stop_carebridge(bot)
    engine = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"set-up: {patients} patients enrolled and answered {items} items each in {seconds:.0f} s ({engine}"
          f"{', under tracemalloc' if traced else ''}); load average {load}")
    print(f"at start:  VmRSS {mb(start['VmRSS'])}  VmHWM {mb(start['VmHWM'])}")
    print(f"at rest with {patients} screenings in progress:  VmRSS {mb(rest['VmRSS'])}  VmHWM {mb(rest['VmHWM'])}  "
          f"(RssAnon {mb(rest.get('RssAnon', 0))})")
    print(f"growth: {(rest['VmRSS'] - start['VmRSS']) / patients:.1f} kB of VmRSS per screening in progress")
    if traced:
        print("what grew most between start and rest (tracemalloc; 4 frames, the allocating one last):\n" + top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=3, help="questions each patient answers before stopping")
    parser.add_argument("--database-url", help="PostgreSQL server and database to create the run's database beside")
    parser.add_argument("--tracemalloc", action="store_true", help="also print the bot's largest allocation sites")
    args = parser.parse_args()
    run(args.patients, args.items, args.database_url, args.tracemalloc)


if __name__ == "__main__":
    main()
