"""Page latency: from a patient's positive answer to PHQ-9 item 9 to the page reaching the clinic's Slack channel.

`carebridge run` runs against the Bot API and Slack Web API stand-ins (Slack's one message a second per channel
enforced, with 429s). N patients enroll in one of four clinics (bench/clinic_pages.toml, a channel each), consent
and answer PHQ-9 items 1-8; once every one of them sees item 9, they answer it "Several days" one after another,
INTERVAL seconds apart. Each latency runs from the press (the update queued at the Bot API stand-in) to the
stand-in receiving the chat.postMessage that posts that patient's page. Prints p50, p90, p99, max and the count.

    .venv/bin/python bench/page_latency.py --patients 200 [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, select  # noqa: E402

from bench.databases import scratch_database  # noqa: E402
from bench.harness import (  # noqa: E402
    button,
    latency_line,
    load_average,
    question_number,
    stamped_watch,
    start_carebridge,
    stop_carebridge,
)
from bot.standins.slack_api import FakeSlackApi, RateLimits  # noqa: E402
from bot.standins.telegram_api import FakeBotApi  # noqa: E402
from bot.store.tables import CHAT_LINK, PATIENT  # noqa: E402

CLINICS = 4
FIRST_CHAT = 700_000
CODE = re.compile(r"\bP-[0-9A-Z]+\b")


def bring_to_item9(api: FakeBotApi, arrivals, chats: list[int], timeout: float) -> dict[int, tuple[int, str]]:
    """Enroll the patients and answer items 1-8 "Not at all"; return each one's item-9 message and answer."""
    for chat in chats:
        api.user_sends(chat, f"/start c-page-{chat % CLINICS}")
    ready: dict[int, tuple[int, str]] = {}
    deadline = time.monotonic() + timeout
    while len(ready) < len(chats):
        _, message = arrivals.get(timeout=max(1.0, deadline - time.monotonic()))
        number = question_number(message)
        if "I agree" in dict(message.buttons):
            api.user_presses(message.chat_id, message.message_id, button(message, "I agree"))
        elif number == 9:
            ready[message.chat_id] = (message.message_id, button(message, "Several days"))
        elif number is not None:
            api.user_presses(message.chat_id, message.message_id, button(message, "Not at all"))
    return ready


def codes_by_chat(database_url: str) -> dict[str, int]:
    """Return each patient's pseudonymous code with their Telegram chat id."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(PATIENT.c.code, CHAT_LINK.c.chat_id).select_from(
                PATIENT.join(CHAT_LINK, CHAT_LINK.c.patient_id == PATIENT.c.id))).all()
    finally:
        engine.dispose()
    return {code: int(chat) for code, chat in rows}


def run(patients: int, interval: float, database_url: str | None) -> None:
    """Set up, press item 9 on schedule, wait for every page, print the latencies."""
    slack = FakeSlackApi(limits=RateLimits())
    for clinic in range(CLINICS):
        slack.add_channel(f"C0PAGE{clinic}", f"page-{clinic}")
    chats = list(range(FIRST_CHAT, FIRST_CHAT + patients))
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as folder, \
            scratch_database(database_url, Path(folder), "pages") as url, \
            FakeBotApi().running() as api, slack.running():
        arrivals = stamped_watch(api)
        bot = start_carebridge(api, Path(folder), DATABASE_URL=url,
                               CAREBRIDGE_CONFIG=str(ROOT / "bench" / "clinic_pages.toml"),
                               SLACK_BOT_TOKEN=slack.token, SLACK_SIGNING_SECRET=slack.signing_secret,
                               SLACK_API_URL=slack.base_url)
        try:
            started = time.monotonic()
            ready = bring_to_item9(api, arrivals, chats, timeout=60 + 2 * patients)
            print(f"set-up: {patients} patients at item 9 after {time.monotonic() - started:.0f} s", flush=True)
            time.sleep(3)  # let the last edits go out
            pressed: dict[int, float] = {}
            first = time.monotonic() + 0.5
            for index, chat in enumerate(chats):
                time.sleep(max(0.0, first + index * interval - time.monotonic()))
                message_id, data = ready[chat]
                pressed[chat] = time.monotonic()
                api.user_presses(chat, message_id, data)

            def pages():
                return [c for c in slack.calls_of("chat.postMessage") if c.status == 200 and c.error is None]
            deadline = time.monotonic() + 120
            while len(pages()) < patients and time.monotonic() < deadline:
                time.sleep(0.2)
            posted = pages()
            load = load_average()
        finally:
            stop_carebridge(bot)
        by_code = codes_by_chat(url)
    arrived: dict[int, float] = {}
    for call in posted:
        found = CODE.search(str(call.params.get("text", "")))
        chat = by_code.get(found.group(0)) if found else None
        if chat in pressed and chat not in arrived:
            arrived[chat] = call.time
    latencies = [arrived[chat] - pressed[chat] for chat in arrived]
    engine = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(latency_line(f"page latency ({engine}, {patients} patients, one every {interval} s)", latencies))
    print(f"pages received {len(arrived)} of {patients}; Slack 429s {slack.too_many_requests}; "
          f"chat.postMessage calls {len(slack.calls_of('chat.postMessage'))}; load average {load}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between two patients' item-9 answers")
    parser.add_argument("--database-url", help="PostgreSQL server and database to create the run's database beside")
    args = parser.parse_args()
    run(args.patients, args.interval, args.database_url)


if __name__ == "__main__":
    main()
