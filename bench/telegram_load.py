"""Closed-loop PHQ-9 load through the real python-telegram-bot client and the Bot API stand-in.

N simulated patients each answer a PHQ-9 by pressing buttons, pressing the next one as soon as the
question arrives. The same run measures CareBridge (`carebridge run`, every answer committed to
SQLite with synchronous=FULL) and a baseline bot written the way python-telegram-bot's examples do
it (ConversationHandler + PicklePersistence, state in memory). Prints answers/s and the bot
process's CPU milliseconds per answer. With --database-url CareBridge runs on PostgreSQL: each run gets a new
database beside the one named (created, upgraded with `carebridge db upgrade`, dropped after; see
bench/databases.py).

    .venv/bin/python bench/telegram_load.py --patients 50,5000
    .venv/bin/python bench/telegram_load.py --patients 50 --rounds 5
    .venv/bin/python bench/telegram_load.py --patients 50 --bots carebridge \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.databases import scratch_database  # noqa: E402
from bench.harness import answer_in_closed_loop, cpu_seconds, enroll_to_first_question, wait  # noqa: E402
from bot.standins.telegram_api import FakeBotApi  # noqa: E402

ITEMS = 9


def start_bot(kind: str, api: FakeBotApi, folder: Path, database_url: str) -> subprocess.Popen:
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_BASE_URL": api.base_url}
    if kind == "carebridge":
        env.update(DATABASE_URL=database_url, CAREBRIDGE_CONFIG=str(ROOT / "bench" / "clinic.toml"),
                   TELEGRAM_RATE_LIMIT="100000")
        command = [str(Path(sys.executable).with_name("carebridge")), "run"]
        if os.environ.get("BENCH_PROFILE"):  # write a cProfile of the bot to this file
            code = ("import sys, time, cProfile; from bot.cli import main; sys.argv = ['carebridge', 'run']; "
                    "p = cProfile.Profile(time.thread_time)\ntry:\n    p.runcall(main)\nfinally:\n    p.dump_stats(sys.argv_profile)")
            command = [sys.executable, "-c", code.replace("sys.argv_profile", repr(os.environ["BENCH_PROFILE"]))]
    else:
        command = [sys.executable, str(ROOT / "bench" / "baseline_bot.py"), str(folder / "state.pickle")]
    polls = len(api.calls_of("getUpdates"))
    log = (folder / "bot.log").open("wb")  # a file, not a pipe: a full pipe would stall the bot
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log, cwd=folder)
    wait(lambda: len(api.calls_of("getUpdates")) > polls + 1 or process.poll() is not None, 60, f"{kind} to poll")
    if process.poll() is not None:
        raise RuntimeError(f"{kind} exited: {(folder / 'bot.log').read_text()[-2000:]}")
    return process


def run(kind: str, patients: int, api: FakeBotApi, first_chat: int, database_url: str | None,
        patience: float) -> dict:
    """Enroll the patients, then time them answering a PHQ-9 in closed loop (for at most `patience` seconds)."""
    chats = list(range(first_chat, first_chat + patients))
    with tempfile.TemporaryDirectory(prefix=f"bench-{kind}-") as folder, \
            scratch_database(database_url if kind == "carebridge" else None, Path(folder), "load") as url:
        process = start_bot(kind, api, Path(folder), url)
        try:
            arrivals = api.watch()
            first_questions = enroll_to_first_question(api, arrivals, chats,
                                                       "/start c-bench" if kind == "carebridge" else "/start")
            cpu_before, started = cpu_seconds(process.pid), time.perf_counter()
            answers = answer_in_closed_loop(api, arrivals, first_questions, patience)
            elapsed, cpu_after = time.perf_counter() - started, cpu_seconds(process.pid)
            user, system = cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1]
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:  # the baseline can take minutes to pickle 5,000 users
                process.kill()
                process.wait()
    return {"bot": kind, "patients": patients, "postgresql": url.startswith("postgresql"), "answers": answers,
            "finished": answers == patients * ITEMS,
            "seconds": elapsed, "answers_per_s": answers / elapsed,
            "cpu_ms_per_answer": (user + system) * 1000 / answers if answers else float("inf"),
            "system_ms_per_answer": system * 1000 / answers if answers else float("inf")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", default="50,5000", help="comma-separated patient counts")
    parser.add_argument("--bots", default="baseline,carebridge")
    parser.add_argument("--rounds", type=int, default=1, help="run the bots by turns this many times; report medians "
                                                                "(this machine's speed drifts between minutes)")
    parser.add_argument("--patience", type=float, default=300,
                        help="seconds a bot may take to answer; one that has not finished by then is stopped and "
                             "measured over the answers it took (the baseline at 5,000 patients needs far longer)")
    parser.add_argument("--database-url", help="run CareBridge on PostgreSQL: a server and database to create "
                                               "each run's database beside (default: SQLite in a temporary folder)")
    args = parser.parse_args()
    results = []
    with FakeBotApi().running() as api:
        first_chat = 10_000
        for patients in [int(p) for p in args.patients.split(",")]:
            for _round in range(args.rounds):
                for kind in args.bots.split(","):
                    results.append(run(kind, patients, api, first_chat, args.database_url, args.patience))
                    first_chat += patients
                    print_row(results[-1])
    summarise(results)


def print_row(row: dict) -> None:
    stopped = "" if row["finished"] else f"  (stopped after {row['seconds']:.0f} s: not finished, measured over the answers taken)"
    print(f"{row['bot']:<11} patients {row['patients']:>5}  answers {row['answers']:>6}  "
          f"{row['answers_per_s']:8.1f} answers/s  {row['cpu_ms_per_answer']:6.2f} CPU ms/answer "
          f"(of which system {row['system_ms_per_answer']:.2f})"
          f"{' on PostgreSQL' if row['postgresql'] else ''}{stopped}", flush=True)


def summarise(results: list[dict]) -> None:
    """Print the ratio of CareBridge's CPU per answer to the baseline's (median of rounds), and the scaling."""
    cpu: dict[tuple[str, int], list[float]] = {}
    stopped: set[tuple[str, int]] = set()
    for row in results:
        cpu.setdefault((row["bot"], row["patients"]), []).append(row["cpu_ms_per_answer"])
        if not row["finished"]:
            stopped.add((row["bot"], row["patients"]))
    counts = sorted({row["patients"] for row in results})
    for patients in counts:
        ours, theirs = cpu.get(("carebridge", patients)), cpu.get(("baseline", patients))
        if ours and theirs:
            ratios = [a / b for a, b in zip(ours, theirs, strict=True)]  # each round's pair ran minutes apart at most
            print(f"CPU per answer at {patients}: CareBridge / baseline = {statistics.median(ratios):.2f}"
                  + (f" (median of {len(ratios)} rounds: {', '.join(f'{r:.2f}' for r in ratios)})" if len(ratios) > 1 else "")
                  + "".join(f"; {bot} stopped before it finished" for bot in ("baseline", "carebridge")
                            if (bot, patients) in stopped))
    if len(counts) > 1 and ("carebridge", counts[0]) in cpu and ("carebridge", counts[-1]) in cpu:
        change = statistics.median(cpu[("carebridge", counts[-1])]) / statistics.median(cpu[("carebridge", counts[0])]) - 1
        print(f"CareBridge CPU per answer at {counts[-1]} vs {counts[0]} patients: {change:+.0%}")


if __name__ == "__main__":
    main()
