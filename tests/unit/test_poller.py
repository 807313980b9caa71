"""The poller confirms an update only once it is stored, waits out failures, and never stops for one bad update."""

from __future__ import annotations

import asyncio
import json

import pytest
from bot.metrics import REGISTRY
from sqlalchemy.exc import OperationalError
from telegram import Update
from telegram.error import InvalidToken, NetworkError, RetryAfter

from bot.adapters.telegram import polling
from bot.adapters.telegram.polling import ATTEMPTS_PER_UPDATE, Poller


def update(update_id: int, text: str = "hello") -> dict:
    return {"update_id": update_id, "message": {"message_id": update_id, "date": 0, "text": text,
                                                "chat": {"id": 7, "type": "private"}}}


class FakeStore:
    """Store updates by id, failing as told first: {update_id: [exception, ...]}."""

    def __init__(self, failures: dict[int, list[BaseException]] | None = None):
        self.failures, self.stored, self.attempts = failures or {}, [], []

    async def process(self, data: dict) -> None:
        self.attempts.append(data["update_id"])
        pending = self.failures.get(data["update_id"])
        if pending:
            raise pending.pop(0)
        self.stored.append(data["update_id"])


class FakeBot:
    """Answer getUpdates from a script of batches (or errors to raise), recording each call's offset and what
    the store held by then."""

    def __init__(self, script: list, done: asyncio.Event, store: FakeStore | None = None):
        self.script, self.done, self.store = list(script), done, store
        self.offsets, self.stored_when_asked, self.webhook_deleted = [], [], False

    async def delete_webhook(self) -> bool:
        self.webhook_deleted = True
        return True

    async def do_api_request(self, endpoint: str, api_kwargs: dict, read_timeout: float) -> list:
        assert endpoint == "getUpdates" and read_timeout > api_kwargs["timeout"]
        assert set(json.loads(api_kwargs["allowed_updates"])) == set(Update.ALL_TYPES)  # presses, edits, everything
        self.offsets.append(api_kwargs["offset"])
        self.stored_when_asked.append(list(self.store.stored) if self.store else [])
        if not self.script:
            self.done.set()
            await asyncio.Event().wait()  # a long poll that never ends
        step = self.script.pop(0)
        if isinstance(step, BaseException):
            raise step
        return step


def poll(script: list, store: FakeStore, monkeypatch) -> tuple[FakeBot, list[float]]:
    """Run a poller until the script is spent; return the bot and the back-off waits it took."""
    waits: list[float] = []
    real_sleep = asyncio.sleep

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr(polling.asyncio, "sleep", no_wait)

    async def scenario() -> FakeBot:
        done = asyncio.Event()
        bot = FakeBot(script, done, store)
        poller = Poller(bot, store.process, poll_timeout=10)
        await poller.start()
        await asyncio.wait_for(done.wait(), timeout=5)
        await poller.halt()
        assert not poller.polling
        return bot

    return asyncio.run(scenario()), waits


def database_down() -> OperationalError:
    return OperationalError("INSERT ...", {}, Exception("connection refused"))


def counted(status: str) -> float:
    return REGISTRY.get_sample_value("carebridge_events_total", {"source": "telegram", "status": status}) or 0


def test_each_batch_is_confirmed_by_the_next_call_only_after_every_update_in_it_is_stored(monkeypatch):
    store = FakeStore()
    bot, waits = poll([[update(5), update(6)], [update(7)]], store, monkeypatch)
    assert bot.webhook_deleted
    assert store.stored == [5, 6, 7]
    assert bot.offsets == [None, 7, 8]
    assert bot.stored_when_asked == [[], [5, 6], [5, 6, 7]]  # confirming 5 and 6 (offset 7) once both are stored
    assert waits == []


def test_while_the_database_is_away_the_update_is_tried_again_and_not_confirmed(monkeypatch):
    store = FakeStore({5: [database_down() for _ in range(ATTEMPTS_PER_UPDATE + 2)]})
    bot, waits = poll([[update(5), update(6)]], store, monkeypatch)
    assert store.attempts == [5] * (ATTEMPTS_PER_UPDATE + 3) + [6]  # a database error never skips an update
    assert store.stored == [5, 6]
    assert bot.offsets == [None, 7]
    assert waits == [1, 2, 5, 10, 30]  # longer each time, up to the last step


def test_an_update_that_keeps_failing_otherwise_is_skipped_counted_and_polling_goes_on(monkeypatch, caplog):
    before = counted("failed")
    store = FakeStore({5: [KeyError("bug") for _ in range(ATTEMPTS_PER_UPDATE)]})
    bot, _waits = poll([[update(5, "my private words"), update(6)]], store, monkeypatch)
    assert store.attempts == [5] * ATTEMPTS_PER_UPDATE + [6]
    assert store.stored == [6] and bot.offsets == [None, 7]
    assert counted("failed") == before + 1
    skipped = [r for r in caplog.records if r.getMessage().startswith("update skipped")]
    assert len(skipped) == 1 and skipped[0].event_key == "telegram:update:5" and skipped[0].error == "KeyError"
    assert "my private words" not in caplog.text


def test_failed_calls_are_waited_out_as_telegram_asks_or_longer_each_time(monkeypatch):
    store = FakeStore()
    script = [NetworkError("down"), NetworkError("down"), RetryAfter(3), [update(9)]]
    bot, waits = poll(script, store, monkeypatch)
    assert waits == [1, 2, 3.0]
    assert store.stored == [9] and bot.offsets == [None, None, None, None, 10]


def test_a_bad_token_stops_polling_and_tells_the_host():
    async def scenario() -> None:
        told = asyncio.Event()
        poller = Poller(FakeBot([InvalidToken()], asyncio.Event()), FakeStore().process, 10, failed=told.set)
        await poller.start()
        await asyncio.wait_for(told.wait(), timeout=5)
        with pytest.raises(InvalidToken):
            await poller.halt()

    asyncio.run(scenario())
