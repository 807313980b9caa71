"""Shared parts of the redelivery tests: a reproducible running bot, webhook posts, the keys claimed, stored state."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import httpx
from sqlalchemy import func, select
from sqlmodel import SQLModel

from bot.adapters.telegram.webhook import SECRET_HEADER, WEBHOOK_PATH
from bot.bootstrap import bootstrap
from bot.ids import SequentialIds
from bot.standins.slack import FakeSlackApi
from bot.standins.telegram.app import FakeBotApi
from bot.store import migrate
from bot.store.db import make_engine
from bot.store.uow import SqlStore, SqlUnitOfWork
from bot.worker import delivery, slack
from bot.worker.pace import RateLimits
from tests.e2e.telegram_harness import RunningBot, wait_for
from tests.store_fixtures import FixedClock, reset_postgresql

SECRET = "redelivery-webhook-secret"
FAST = RateLimits(global_per_second=1000, global_burst=1000, per_chat_per_second=1000, per_chat_burst=1000)
RANDOM_COLUMNS = {"enrollmenttoken": {"token_hash"}}  # the link's token comes from secrets, whatever the ids
KEYS = "inboundevent"  # its keys hold Slack's action_ts (the wall clock): only its size is compared


def fresh_database(database_url: str, name: str) -> str:
    """Return an empty database for one run: a new SQLite file beside the fixture's, or PostgreSQL emptied."""
    if database_url.startswith("sqlite:///"):
        return f"sqlite:///{Path(database_url.removeprefix('sqlite:///')).parent / name}.db"
    reset_postgresql(database_url)
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    engine.dispose()
    return database_url


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Claims:
    """Record every idempotency key the services claim, (key, new?), once the claiming transaction is over."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bool]] = []
        self._lock = threading.Lock()

    @contextmanager
    def watching(self) -> Iterator[Claims]:
        claim, unit_of_work = SqlUnitOfWork.claim_event, SqlStore.unit_of_work

        def claim_event(uow, key, now):
            new = claim(uow, key, now)
            uow.__dict__.setdefault("claimed", []).append((key, new))
            return new

        @contextmanager
        def transaction(store):
            with unit_of_work(store) as uow:
                yield uow
            with self._lock:
                self.seen += uow.__dict__.get("claimed", [])

        with mock.patch.object(SqlUnitOfWork, "claim_event", claim_event), \
                mock.patch.object(SqlStore, "unit_of_work", transaction):
            yield self

    def count(self) -> int:
        """Return how many claims were made so far."""
        with self._lock:
            return len(self.seen)

    def duplicates(self) -> list[str]:
        """Return the keys claimed a second time (the redeliveries the services turned away)."""
        with self._lock:
            return [key for key, new in self.seen if not new]


@contextmanager
def steady_bot(telegram: FakeBotApi, database_url: str, slack_api: FakeSlackApi | None = None) -> Iterator[RunningBot]:
    """Run `carebridge run` behind its webhook on a still clock with sequential ids, delivering without delay."""
    port = int(slack_api.events_url.split(":")[2].split("/")[0]) if slack_api else free_port()
    overrides = {"TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}", "TELEGRAM_WEBHOOK_SECRET": SECRET,
                 "CAREBRIDGE_HTTP_PORT": port}
    if slack_api:
        overrides.update(SLACK_BOT_TOKEN=slack_api.token, SLACK_SIGNING_SECRET=slack_api.signing_secret,
                         SLACK_API_URL=slack_api.base_url)
    bot = RunningBot(telegram, database_url, limits=FAST, **overrides)
    bot.services.store.engine.dispose()
    bot.services = bootstrap(bot.settings, clock=FixedClock(), ids=SequentialIds())
    # Deliveries are marked sent at once (not in 0.2 s batches) and Slack's pace is lifted, so that each step can
    # wait for an outbox with nothing pending without making the test slow; what is sent, and in what order, is not
    # changed by either.
    with mock.patch.object(delivery, "RECORD_SECONDS", 0.0), mock.patch.object(slack, "SLACK_LIMITS", FAST), bot:
        yield bot
    assert bot.error is None


def post_update(bot: RunningBot, update: dict) -> None:
    """Post one update to the webhook as Telegram does, with the secret; 200 means it is stored."""
    url = f"{bot.settings.telegram_webhook_url}{WEBHOOK_PATH}"
    response = httpx.post(url, json=update, headers={SECRET_HEADER: SECRET}, timeout=10, trust_env=False)
    assert response.status_code == 200, response.status_code


def pending(bot: RunningBot) -> int:
    """Return how many outbox rows wait for a platform the bot delivers to."""
    platforms = ["telegram"] + (["slack"] if bot.settings.slack_bot_token else [])
    return sum(len(bot.services.store.outbox.pending_ids(platform)) for platform in platforms)


def settle(bot: RunningBot, claims: Claims | None = None, expected: int = 0) -> None:
    """Wait until the services claimed `expected` keys in all and nothing waits in the outbox."""
    try:
        wait_for(lambda: (claims is None or claims.count() >= expected) and not pending(bot), what="a quiet bot")
    except AssertionError:
        claimed = claims.count() if claims else 0
        raise AssertionError(f"{claimed} of {expected} keys claimed (was a request handled without its key?), "
                             f"{pending(bot)} outbox rows pending") from None


# How the workers share the work on PostgreSQL (leases on chats, the send-rate bucket): the workers' own
# bookkeeping by the database's clock, not what a patient or clinician did.
WORKERS_OWN = {"deliverylease", "ratebucket"}


def stored(bot: RunningBot) -> dict[str, list[dict]]:
    """Return every row of every table (the random token hash and the conversation's version aside)."""
    found = {}
    with bot.services.store.engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in WORKERS_OWN:
                continue
            if table.name == KEYS:
                found[table.name] = [conn.execute(select(func.count()).select_from(table)).scalar_one()]
                continue
            skip = RANDOM_COLUMNS.get(table.name, set()) | {"version"}
            columns = [c for c in table.columns if c.name not in skip]
            rows = conn.execute(select(*columns).order_by(*table.primary_key.columns)).all()
            found[table.name] = [_steady(row._asdict()) for row in rows]
    return found


def _steady(row: dict) -> dict:
    """Return a row by column; a Slack ts only tells which of two conversations the worker happened to post to first."""
    if row.get("platform") == "slack" and "platform_message_id" in row:
        row["platform_message_id"] = "ts"
    return row
