"""How a delivery worker shares the outbox and the send rate: alone in its process, or with others on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import Callable, Iterable
from typing import Protocol

from bot.domain.effects import REPLY
from bot.services.ports import OutboundMessage
from bot.store.db import is_sqlite
from bot.store.leases import SqlLeases, SqlRateBucket
from bot.store.outbox import SqlOutbox
from bot.worker.pace import LocalPace, SharedPace

LEASE_SECONDS = 15.0  # a dead worker's chats go to another after this long
RENEW_SECONDS = 3.0  # leases of chats with rows queued are extended this often
SAFETY_SECONDS = 5.0  # a chat is not sent to when its lease has less than this left (since the last renewal)
SCAN_ROWS = 200
QUEUE_TARGET = 300  # rows queued in memory beyond which only urgent rows' chats are claimed


def worker_name() -> str:
    """Return a name for this process among the workers: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Claims(Protocol):
    """Which pending rows this worker may send."""

    rescan_seconds: float

    def scan(self, platform: str, is_new: Callable[[int], bool], queued: int) -> list[OutboundMessage]: ...
    def holds(self, chat: str) -> bool: ...
    def renew(self, platform: str, chats: Iterable[str]) -> set[str]: ...
    def release(self, platform: str) -> None: ...


class WholeOutbox:
    """The only worker (SQLite, or one process): every pending row is ours; the rows we commit are offered at once."""

    rescan_seconds = 5.0

    def __init__(self, outbox: SqlOutbox):
        self.outbox = outbox

    def scan(self, platform: str, is_new: Callable[[int], bool], queued: int) -> list[OutboundMessage]:
        """Return the pending rows not queued yet."""
        return self.outbox.messages([row_id for row_id in self.outbox.pending_ids(platform) if is_new(row_id)])

    def holds(self, chat: str) -> bool:
        """Say that every chat is ours."""
        return True

    def renew(self, platform: str, chats: Iterable[str]) -> set[str]:
        """Keep every chat."""
        return set(chats)

    def release(self, platform: str) -> None:
        """Hold nothing to give up."""


class LeasedChats:
    """One of many workers (PostgreSQL): a chat's rows are sent only by the worker holding its lease."""

    rescan_seconds = 0.2  # rows committed by other processes (`serve`) are found this fast

    def __init__(self, outbox: SqlOutbox, leases: SqlLeases):
        self.outbox = outbox
        self.leases = leases
        self._good_until: dict[str, float] = {}  # chat -> loop time until which our lease surely holds

    def _mark(self, chats: Iterable[str]) -> None:
        until = asyncio.get_running_loop().time() + self.leases.seconds - SAFETY_SECONDS
        for chat in chats:
            self._good_until[chat] = until

    def scan(self, platform: str, is_new: Callable[[int], bool], queued: int) -> list[OutboundMessage]:
        """Lease chats with pending rows (only urgent ones when much is queued); return their rows not queued yet."""
        most_urgent = REPLY if queued >= QUEUE_TARGET else None
        self._mark(self.leases.claim(platform, SCAN_ROWS, most_urgent))
        rows = self.outbox.messages([row_id for row_id in self.leases.pending_ids(platform) if is_new(row_id)])
        fading = {row.recipient for row in rows if not self.holds(row.recipient)}
        if fading:
            self.renew(platform, fading)
        return [row for row in rows if self.holds(row.recipient)]

    def holds(self, chat: str) -> bool:
        """Say whether our lease on a chat surely holds now."""
        return self._good_until.get(chat, 0.0) > asyncio.get_running_loop().time()

    def renew(self, platform: str, chats: Iterable[str]) -> set[str]:
        """Extend our leases on chats we have rows for; return those still ours."""
        chats = set(chats)
        kept = self.leases.renew(platform, chats)
        now = asyncio.get_running_loop().time()
        self._good_until = {chat: until for chat, until in self._good_until.items()
                            if until > now and (chat in kept or chat not in chats)}
        self._mark(kept)
        return kept

    def release(self, platform: str) -> None:
        """Give up our leases (a clean stop), so that another worker takes the chats at once."""
        self.leases.release(platform)
        self._good_until.clear()


def sharing(outbox: SqlOutbox, platform: str, per_second: float, burst: int, holder: str | None):
    """Return (claims, pace): shared through the database on PostgreSQL with a worker name, else this process's."""
    if holder is None or is_sqlite(outbox.engine):
        return WholeOutbox(outbox), LocalPace(per_second, burst)
    leases = SqlLeases(outbox.engine, holder, LEASE_SECONDS)
    return LeasedChats(outbox, leases), SharedPace(SqlRateBucket(outbox.engine, f"{platform}:all", per_second, burst))
