"""Only one process polls Telegram (two would each get 409 Conflict); another takes over when it stops."""

from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import text

from bot.adapters.telegram import polling
from bot.standins.telegram.app import FakeBotApi
from bot.store.db import make_engine
from bot.store.polling_lock import LOCK_KEY, PollingLock
from tests.e2e.telegram_harness import RunningBot, last_message, wait_for

pytestmark = [pytest.mark.store,
              pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="the lock is PostgreSQL's")]


def test_a_second_run_waits_to_poll_until_the_first_stops_then_takes_over(database_url, monkeypatch):
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite serves one process: its run always polls")
    monkeypatch.setattr(polling, "LOCK_CHECK_SECONDS", 0.2)
    # Two Bot API stand-ins with one token stand for one bot: each records only its own process's calls.
    with FakeBotApi().running() as first_api, FakeBotApi().running() as second_api:
        first = RunningBot(first_api, database_url).__enter__()
        try:
            with RunningBot(second_api, database_url, ready="setMyCommands"):
                time.sleep(2)
                assert first_api.calls_of("getUpdates")
                assert not second_api.calls_of("getUpdates")  # it waits, and meanwhile delivers and fires timers
                first.__exit__(None, None, None)
                first = None
                wait_for(lambda: second_api.calls_of("getUpdates"), timeout=10, what="the second to poll")
                second_api.user_sends(4242, "/start c-intake")
                assert "agree" in last_message(second_api, 4242).text.lower()
        finally:
            if first is not None:
                first.__exit__(None, None, None)


def test_a_lock_whose_connection_dropped_is_given_up_and_taken_again_once_free(database_url):
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite serves one process: its run always polls")
    first, second = PollingLock(make_engine(database_url)), PollingLock(make_engine(database_url))
    killer = make_engine(database_url)
    try:
        assert first.try_acquire() and not second.try_acquire()
        with killer.begin() as conn:  # the poller's session ends, as when its network or the server drops it
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                              "AND objid = :low AND granted"), {"low": LOCK_KEY & 0xFFFFFFFF})
        wait_for(second.try_acquire, timeout=10, what="the lock to go with the session")
        assert not first.try_acquire()  # the first notices at its next check and does not poll any more
        second.release()
        assert first.try_acquire()
    finally:
        first.release()
        second.release()
        for engine in (first.engine, second.engine, killer):
            engine.dispose()
