"""Deliver outbox rows: most urgent first, one chat's rows in order, within the platform's rate limits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from aiolimiter import AsyncLimiter

from bot.services.ports import OutboundMessage
from bot.store.outbox import SqlOutbox

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 300
REMEMBERED_QUESTIONS = 20_000


@dataclass(frozen=True)
class RateLimits:
    """Our sending pace, kept under Telegram's 30/s overall and ~1/s per chat with room for network jitter."""

    global_per_second: float = 29
    global_burst: int = 15
    per_chat_per_second: float = 1
    per_chat_burst: int = 2


class Sender(Protocol):
    """A platform's delivery adapter."""

    async def deliver(self, message: OutboundMessage, original: tuple[str, str] | None): ...


class DeliveryWorker:
    """Send what the outbox holds for one platform."""

    def __init__(self, outbox: SqlOutbox, platform: str, sender: Sender, clock: Callable[[], datetime],
                 limits: RateLimits = RateLimits()):
        self.outbox = outbox
        self.platform = platform
        self.sender = sender
        self.clock = clock
        self.limits = limits
        self._global = AsyncLimiter(limits.global_burst, limits.global_burst / limits.global_per_second)
        self._chats: dict[str, AsyncLimiter] = {}
        self._delivered: dict[tuple[str, str], tuple[str, str]] = {}

    def _chat_limiter(self, chat: str) -> AsyncLimiter:
        if chat not in self._chats:
            burst = self.limits.per_chat_burst
            self._chats[chat] = AsyncLimiter(burst, burst / self.limits.per_chat_per_second)
        return self._chats[chat]

    async def run_once(self) -> int:
        """Send every row that may go now; return how many were attempted."""
        now = self.clock()
        blocked: set[str] = set()
        chosen: dict[str, list[int]] = {}
        for row_id, recipient, next_attempt in self.outbox.queue((self.platform,)):
            if recipient in blocked:
                continue  # a chat's later rows never overtake an earlier one that must wait
            chat = self._chat_limiter(recipient)
            if next_attempt > now or not (self._global.has_capacity() and chat.has_capacity()):
                blocked.add(recipient)
                continue
            await self._global.acquire()
            await chat.acquire()
            chosen.setdefault(recipient, []).append(row_id)
        if not chosen:
            return 0
        messages = {m.id: m for m in self.outbox.messages([i for ids in chosen.values() for i in ids])}
        chats = [[messages[i] for i in ids if i in messages] for ids in chosen.values()]
        results = await asyncio.gather(*(self._send_in_order(chat) for chat in chats))
        self._settle([pair for chat in results for pair in chat])
        return sum(len(chat) for chat in chats)

    async def _send_in_order(self, messages: list[OutboundMessage]) -> list:
        """Send one chat's rows one after another; stop at the first that is not sent, keeping order."""
        done = []
        for message in messages:
            outcome = await self._send(message)
            done.append((message, outcome))
            if outcome.kind == "sent" and message.ref and message.kind != "answered" and outcome.message_id:
                self._remember(message, outcome.message_id)
            if outcome.kind != "sent":
                break
        return done

    async def _send(self, message: OutboundMessage):
        original = None
        if message.kind == "answered" and message.ref:
            original = self._delivered.get((message.recipient, message.ref))
            if original is None:
                original = self.outbox.delivered_original(self.platform, message.recipient, message.ref)
        return await self.sender.deliver(message, original)

    def _settle(self, results: list) -> None:
        now = self.clock()
        sent, retries, failed, unreachable = [], [], [], []
        for message, outcome in results:
            if outcome.kind == "sent":
                sent.append((message.id, outcome.message_id))
            elif outcome.kind == "retry":
                retries.append((message.id, now + timedelta(seconds=outcome.retry_after or 1)))
            elif outcome.kind == "transient":
                retries.append((message.id, now + timedelta(seconds=min(MAX_BACKOFF_SECONDS, 2 ** message.attempts))))
            elif outcome.kind == "unreachable" and message.patient_id is not None:
                log.info("patient unreachable", extra={"outbox_id": message.id})
                unreachable.append(message.patient_id)
            else:
                log.warning("delivery failed for good", extra={"outbox_id": message.id, "reason": outcome.reason})
                failed.append(message.id)
        self.outbox.settle(now, sent, retries, failed, unreachable)

    def _remember(self, message: OutboundMessage, message_id: str) -> None:
        """Keep recent questions' message ids so that marking them answered needs no query."""
        if len(self._delivered) >= REMEMBERED_QUESTIONS:
            self._delivered.pop(next(iter(self._delivered)))
        self._delivered[(message.recipient, message.ref)] = (message_id, message.payload["text"])
