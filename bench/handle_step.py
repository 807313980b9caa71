"""CPU per answer of handle() alone: a typed PHQ-9 answer through the flow and the store, no platform.

    .venv/bin/python bench/handle_step.py --patients 200
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.bootstrap import bootstrap, utc_now  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.domain.events import PatientCommand, PatientText  # noqa: E402
from bot.ids import RandomIds  # noqa: E402
from bot.services.enrollment import enroll_chat  # noqa: E402
from bot.services.handle import handle  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{folder}/bench.db"
        settings = Settings(DATABASE_URL=url, CAREBRIDGE_CONFIG=str(ROOT / "bench" / "clinic.toml"))
        services = bootstrap(settings, clock=utc_now, ids=RandomIds())
        chats = [f"bench-{i}" for i in range(args.patients)]
        for chat in chats:
            enroll_chat(services, "bench", "telegram", chat)
            handle(services, PatientCommand(f"{chat}:start", "telegram", chat, "start"))
            handle(services, PatientText(f"{chat}:consent", "telegram", chat, "yes"))
        started = time.process_time()
        for item in range(9):
            for chat in chats:
                handle(services, PatientText(f"{chat}:{item}", "telegram", chat, "1"))
        cpu = time.process_time() - started
        print(f"handle(): {cpu * 1000 / (9 * len(chats)):.2f} CPU ms per answer over {9 * len(chats)} answers ({url.split(':')[0]})")


if __name__ == "__main__":
    main()
