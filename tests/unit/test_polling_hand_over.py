"""Polling follows the lock: it starts when the lock is taken, stops when it is lost, starts again when regained."""

from __future__ import annotations

import asyncio
import logging

from bot.adapters.telegram import polling
from bot.adapters.telegram.polling import poll_while_held


class FakeLock:
    """Answer try_acquire from a script, one answer per check; stop the run when the script is spent."""

    def __init__(self, answers: list[bool], stop: asyncio.Event):
        self.answers, self.stop, self.checks = list(answers), stop, 0

    def try_acquire(self) -> bool:
        self.checks += 1
        if len(self.answers) == 1:
            self.stop.set()
        return self.answers.pop(0)


class FakePoller:
    """Record when polling starts and halts."""

    def __init__(self):
        self.polling, self.calls = False, []

    async def start(self) -> None:
        self.polling = True
        self.calls.append("start")

    async def halt(self) -> None:
        self.polling = False
        self.calls.append("halt")


def run(answers: list[bool], monkeypatch) -> tuple[FakePoller, FakeLock]:
    monkeypatch.setattr(polling, "LOCK_CHECK_SECONDS", 0.001)

    async def main():
        stop = asyncio.Event()
        poller, lock = FakePoller(), FakeLock(answers, stop)
        await asyncio.wait_for(poll_while_held(poller, lock, stop), timeout=5)
        return poller, lock

    return asyncio.run(main())


def test_polling_waits_for_the_lock_and_then_keeps_it(monkeypatch):
    poller, lock = run([False, False, True, True, True], monkeypatch)
    assert poller.calls == ["start"] and poller.polling
    assert lock.checks == 5  # the holder keeps checking that its lock is still there


def test_a_lost_lock_stops_polling_until_it_is_taken_again(monkeypatch, caplog):
    with caplog.at_level(logging.WARNING, logger=polling.__name__):
        poller, _ = run([True, True, False, False, True], monkeypatch)
    assert poller.calls == ["start", "halt", "start"]
    assert "the polling lock was lost" in caplog.text
