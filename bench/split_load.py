"""Closed-loop PHQ-9 through `carebridge serve` and N `carebridge worker` processes on one PostgreSQL.

The same load as bench/telegram_load.py (N simulated patients each answer a PHQ-9 by pressing buttons, the
next press as soon as the question arrives), but the updates reach CareBridge by webhook: the Bot API
stand-in pushes them to the serve processes, one chat's in order, and the workers deliver the replies,
sharing chats by lease and the overall rate through the database. Prints answers/s, the CPU of every
CareBridge process per answer, and the PostgreSQL server's CPU per answer.

    .venv/bin/python bench/split_load.py --patients 50 --workers 2 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.databases import scratch_database  # noqa: E402
from bench.harness import (  # noqa: E402
    CAREBRIDGE,
    answer_in_closed_loop,
    cpu_seconds,
    enroll_to_first_question,
    free_port,
    load_average,
    stop_carebridge,
    wait,
)
from bot.standins.telegram.app import FakeBotApi  # noqa: E402
from bot.standins.telegram.push import WebhookPusher  # noqa: E402

ITEMS = 9
SECRET = "bench-webhook-secret"


def postgres_pids() -> list[int]:
    """Return the PostgreSQL server's processes (the postmaster and its backends)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def cpu_of(pids: list[int]) -> float:
    """Return the CPU seconds these processes have used together."""
    return sum(sum(cpu_seconds(pid)) for pid in pids)


def start(command: list[str], env: dict[str, str], folder: Path) -> subprocess.Popen:
    with (folder / "carebridge.log").open("ab") as log:  # a file, not a pipe: a full pipe would stall the bot
        return subprocess.Popen([CAREBRIDGE, *command], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=folder)


def run(patients: int, workers: int, servers: int, database_url: str, api: FakeBotApi, first_chat: int) -> dict:
    """Start the processes, enroll the patients, then time them answering in closed loop."""
    chats = list(range(first_chat, first_chat + patients))
    with tempfile.TemporaryDirectory(prefix="bench-split-") as name, \
            scratch_database(database_url, Path(name), "split") as url:
        folder = Path(name)
        env = {**os.environ, "DATABASE_URL": url, "CAREBRIDGE_CONFIG": str(ROOT / "bench" / "clinic.toml"),
               "TELEGRAM_BOT_TOKEN": api.token, "TELEGRAM_API_BASE_URL": api.base_url,
               "TELEGRAM_WEBHOOK_URL": "https://bench.example.org", "TELEGRAM_WEBHOOK_SECRET": SECRET,
               "TELEGRAM_RATE_LIMIT": "100000"}
        ports = [free_port() for _ in range(servers)]
        processes = [start(["serve"], {**env, "CAREBRIDGE_HTTP_PORT": str(port)}, folder) for port in ports]
        processes += [start(["worker"], env, folder) for _ in range(workers)]
        pusher = WebhookPusher(api, [f"http://127.0.0.1:{port}/telegram/webhook" for port in ports], SECRET, 16)
        try:
            wait(lambda: len(api.calls_of("setWebhook")) >= servers or any(p.poll() is not None for p in processes),
                 120, "the servers to set the webhook")
            time.sleep(1)  # the servers listen once the webhook is set; the workers start meanwhile
            if any(p.poll() is not None for p in processes):
                raise RuntimeError((folder / "carebridge.log").read_text(errors="replace")[-3000:])
            pusher.start()
            arrivals = api.watch()
            first_questions = enroll_to_first_question(api, arrivals, chats, "/start c-bench")
            pids, database = [p.pid for p in processes], postgres_pids()
            cpu_before, db_before, started = cpu_of(pids), cpu_of(database), time.perf_counter()
            answer_in_closed_loop(api, arrivals, first_questions)
            elapsed = time.perf_counter() - started
            cpu, db = cpu_of(pids) - cpu_before, cpu_of(database) - db_before
        finally:
            pusher.stop()
            for process in processes:
                stop_carebridge(process)
    answers = patients * ITEMS
    return {"patients": patients, "workers": workers, "servers": servers, "answers": answers,
            "answers_per_s": answers / elapsed, "cpu_ms": cpu * 1000 / answers, "db_ms": db * 1000 / answers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=50)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts, one run each")
    parser.add_argument("--servers", type=int, default=1)
    parser.add_argument("--database-url", required=True,
                        help="a PostgreSQL server and database; each run gets a new database beside it")
    args = parser.parse_args()
    print(f"load average before: {load_average()}", flush=True)
    with FakeBotApi().running() as api:
        first_chat = 20_000
        for workers in [int(w) for w in args.workers.split(",")]:
            row = run(args.patients, workers, args.servers, args.database_url, api, first_chat)
            first_chat += args.patients
            print(f"serve x{row['servers']} + worker x{row['workers']}  patients {row['patients']:>5}  "
                  f"answers {row['answers']:>6}  {row['answers_per_s']:8.1f} answers/s  "
                  f"{row['cpu_ms']:6.2f} CPU ms/answer (CareBridge processes)  "
                  f"{row['db_ms']:6.2f} CPU ms/answer (PostgreSQL server)", flush=True)


if __name__ == "__main__":
    main()
