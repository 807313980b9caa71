"""The SQL statements `carebridge run` sends while N patients answer a PHQ-9 in closed loop, by kind.

The bot runs under a small wrapper that counts every statement (SQLAlchemy's `before_cursor_execute`) between
two SIGUSR1 signals: the first is sent once every patient has the first question, the second once all have
finished. Prints the counts by the statement's first words, most frequent first, and the total.

    .venv/bin/python bench/statements.py --patients 50 [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench]
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.databases import scratch_database  # noqa: E402
from bench.harness import (  # noqa: E402
    answer_in_closed_loop,
    enroll_to_first_question,
    start_carebridge,
    stop_carebridge,
    wait,
)
from bot.standins.telegram_api import FakeBotApi  # noqa: E402

COUNTED = """
import collections, signal, sys
from sqlalchemy import event
from sqlalchemy.engine import Engine
OUT, COUNTS, ON = sys.argv[1], collections.Counter(), [False]
@event.listens_for(Engine, "before_cursor_execute")
def count(conn, cursor, statement, parameters, context, executemany):
    if ON[0]:
        COUNTS[" ".join(statement.split()[:4])[:80]] += 1
def toggle(*_):
    if ON[0]:
        lines = [f"{n:7d}  {kind}" for kind, n in COUNTS.most_common()]
        open(OUT, "w").write("\\n".join(lines + [f"{sum(COUNTS.values()):7d}  in all"]))
    ON[0] = not ON[0]
signal.signal(signal.SIGUSR1, toggle)
from bot.cli import main
sys.argv = ["carebridge", "run"]
main()
"""


def run(patients: int, database_url: str | None) -> None:
    """Enroll, count while the patients answer, print the counts."""
    with tempfile.TemporaryDirectory(prefix="bench-statements-") as name, \
            scratch_database(database_url, Path(name), "statements") as url, FakeBotApi().running() as api:
        folder, counts = Path(name), Path(name) / "statements.txt"
        bot = start_carebridge(api, folder, [sys.executable, "-c", COUNTED, str(counts)], DATABASE_URL=url,
                               TELEGRAM_RATE_LIMIT="100000", CAREBRIDGE_CONFIG=str(ROOT / "bench" / "clinic.toml"))
        try:
            arrivals = api.watch()
            first_questions = enroll_to_first_question(api, arrivals, list(range(30_000, 30_000 + patients)),
                                                       "/start c-bench")
            os.kill(bot.pid, signal.SIGUSR1)
            answer_in_closed_loop(api, arrivals, first_questions)
            os.kill(bot.pid, signal.SIGUSR1)
            wait(counts.exists, 30, "the counts")
            engine = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
            print(f"statements sent while {patients} patients answered a PHQ-9 ({engine}):\n{counts.read_text()}")
        finally:
            stop_carebridge(bot)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=50)
    parser.add_argument("--database-url", help="PostgreSQL server and database to create the run's database beside")
    args = parser.parse_args()
    run(args.patients, args.database_url)


if __name__ == "__main__":
    main()
