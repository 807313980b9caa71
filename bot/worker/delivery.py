"""Deliver outbox rows: most urgent first, one chat's rows in order, within the platform's rate limits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

from aiolimiter import AsyncLimiter

from bot.metrics import count_delivery
from bot.services.ports import OutboundMessage
from bot.store.outbox import SqlOutbox
from bot.worker.pending import PendingRows
from bot.worker.pace import LocalPace, RateLimits, SharedPace, on_tick, seconds_to_capacity
from bot.worker.sharing import RENEW_SECONDS, Claims, WholeOutbox

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 300
REMEMBERED_QUESTIONS = 20_000
# Deliveries are marked sent in batches: a crash within this window sends those messages again after the
# restart (at least once, never lost); answers are not affected, they commit before anything is sent.
RECORD_SECONDS = 0.2
RECORD_BATCH = 200
RECENT_SECONDS = 10.0  # a chat sent to this recently keeps its lease, and so its pace, with this worker
EDIT_KINDS = ("answered", "page_update", "thread")  # rows about an earlier message: the one with the same ref


class Sender(Protocol):
    """A platform's delivery adapter."""

    async def deliver(self, message: OutboundMessage, original: tuple[str, str] | None): ...


class DeliveryWorker:
    """Send what the outbox holds for one platform, from a queue in memory fed by offers and outbox scans."""

    def __init__(self, outbox: SqlOutbox, platform: str, sender: Sender, clock: Callable[[], datetime],
                 limits: RateLimits = RateLimits(), rescan_seconds: float | None = None,
                 sharing: tuple[Claims, LocalPace | SharedPace] | None = None):
        self.outbox = outbox
        self.platform = platform
        self.sender = sender
        self.clock = clock
        self.limits = limits
        self.claims, self.pace = sharing or (WholeOutbox(outbox), LocalPace(limits.global_per_second, limits.global_burst))
        self.rescan_seconds = self.claims.rescan_seconds if rescan_seconds is None else rescan_seconds
        self.rows = PendingRows()
        self._chats: dict[str, AsyncLimiter] = {}
        self._delivered: dict[tuple[str, str], tuple[str, str]] = {}
        self._rescan_at: float | None = None  # loop time of the next outbox scan; None: on the next pass
        self._renew_at = 0.0  # loop time at which the leases of chats with queued rows are extended
        self._last_sent: dict[str, float] = {}  # chat -> loop time of its last send (kept while recent)
        self._unrecorded: list[tuple[int, str | None]] = []  # delivered rows not yet marked sent in the outbox
        self._record_by: float | None = None  # loop time by which they are
        self.sleeping_until: float | None = None  # loop time at which the delivery loop wakes, while it sleeps

    def _chat_limiter(self, chat: str) -> AsyncLimiter:
        if chat not in self._chats:
            burst = self.limits.per_chat_burst
            self._chats[chat] = AsyncLimiter(burst, burst / self.limits.per_chat_per_second)
        return self._chats[chat]

    def offer(self, messages: Iterable[OutboundMessage] | None) -> bool:
        """Queue rows just committed (None: some are not known, look at the outbox); return whether to look now."""
        if messages is None:
            self._rescan_at = None
            return True
        look = False
        for message in messages:
            if message.platform != self.platform:
                continue
            if not self.claims.holds(message.recipient):
                self._rescan_at, look = None, True  # another worker may hold the chat: ask the outbox
            elif self.rows.add(message) and not self.rows.is_waiting(message.recipient):
                look = self._goes_before_waking(message.recipient) or look
        return look

    def _goes_before_waking(self, chat: str) -> bool:
        """Say whether a chat's new row may go before the sleeping loop wakes; park the chat if its limit holds it."""
        if self.sleeping_until is None:
            return True  # the loop is at work: it looks at the queue before it sleeps again
        limiter = self._chat_limiter(chat)
        if limiter.has_capacity():
            return True
        until = on_tick(asyncio.get_running_loop().time() + seconds_to_capacity(limiter))
        self.rows.park(chat, until)
        return until < self.sleeping_until

    def _rescan(self) -> None:
        """Queue the pending rows this worker may send and does not know (other writers, restarts, retries)."""
        for message in self.claims.scan(self.platform, self.rows.is_new, len(self.rows)):
            self.rows.add(message)

    def _renew(self, loop_now: float) -> None:
        """Extend the leases of chats with rows queued or sent to lately; forget those another worker took over."""
        self._renew_at = loop_now + RENEW_SECONDS
        # A chat in conversation keeps its worker, whose limiter knows its recent sends: a worker taking it over
        # starts with a full burst, which is safe only once the chat has been quiet for a while.
        self._last_sent = {chat: at for chat, at in self._last_sent.items() if at > loop_now - RECENT_SECONDS}
        chats = set(self.rows.chats()) | set(self._last_sent)
        for chat in chats - self.claims.renew(self.platform, chats):
            self.rows.forget_chat(chat)
        # A limiter whose bucket has drained is the same as a new one: keep only the busy ones, so that memory
        # follows the chats in conversation, not every chat this process has ever sent to.
        self._chats = {chat: limiter for chat, limiter in self._chats.items()
                       if chat in chats or not limiter.has_capacity(limiter.max_rate)}

    async def run_once(self) -> int:
        """Send every row that may go now; return how many were attempted."""
        now, loop_now = self.clock(), asyncio.get_running_loop().time()
        if self._record_by is not None and loop_now >= self._record_by:
            self.record()
        if self._rescan_at is None or loop_now >= self._rescan_at:
            self._rescan_at = loop_now + self.rescan_seconds
            self._rescan()
        if loop_now >= self._renew_at:
            self._renew(loop_now)
        self.rows.release(now, loop_now)
        picked = self._pick(now, loop_now)
        if not picked:
            return 0
        allowed = await self.pace.take(len(picked))
        for message in picked[allowed:]:
            self.rows.put_back(message)  # the overall limit is reached: next time
        picked = picked[:allowed]
        for message in picked:
            await self._chat_limiter(message.recipient).acquire()
            self._last_sent[message.recipient] = loop_now
        results = await asyncio.gather(*(self._send_in_order([message]) for message in picked))
        self._settle([pair for chat in results for pair in chat])
        return len(picked)

    def _pick(self, now: datetime, loop_now: float) -> list[OutboundMessage]:
        """Take the most urgent rows that may go now, one per chat (a chat's next row goes on the next pass)."""
        picked: list[OutboundMessage] = []
        while len(picked) < self.pace.batch:
            message = self.rows.next_ready(now)
            if message is None:
                break
            chat = self._chat_limiter(message.recipient)
            if not self.claims.holds(message.recipient):
                self.rows.forget_chat(message.recipient)  # our lease may have run out: the outbox decides again
            elif not chat.has_capacity():
                self.rows.park(message.recipient, on_tick(loop_now + seconds_to_capacity(chat)))
            else:
                self.rows.take(message)
                self.rows.park(message.recipient, loop_now)
                picked.append(message)
        return picked

    def seconds_to_next(self) -> float | None:
        """Return how long until a queued row may go (None: nothing is queued)."""
        loop_now = asyncio.get_running_loop().time()
        wait = self.rows.seconds_to_next(self.clock(), loop_now)
        if wait == 0.0:  # rows are ready: the overall limit holds them back
            wait = max(1 / self.limits.global_per_second, self.pace.seconds_to_capacity())
        if self._record_by is not None:
            wait = min(wait if wait is not None else RECORD_SECONDS, max(0.0, self._record_by - loop_now))
        return wait

    async def _send_in_order(self, messages: list[OutboundMessage]) -> list:
        """Send one chat's rows one after another; stop at the first that is not sent, keeping order."""
        done = []
        for index, message in enumerate(messages):
            outcome = await self._send(message)
            done.append((message, outcome))
            if outcome.kind == "sent" and message.ref and message.kind not in EDIT_KINDS and outcome.message_id:
                self._remember(message, outcome.message_id)
            if outcome.kind != "sent":
                done.extend((later, None) for later in messages[index + 1:])  # not attempted: queued again
                break
        return done

    async def _send(self, message: OutboundMessage):
        if message.kind in getattr(self.sender, "attempts_recorded_first", ()):
            await asyncio.to_thread(self.outbox.begin_attempt, message.id)
        original = None
        if message.kind in EDIT_KINDS and message.ref:
            original = self._delivered.get((message.recipient, message.ref))
            if original is None:
                original = self.outbox.delivered_original(self.platform, message.recipient, message.ref)
        return await self.sender.deliver(message, original)

    def _settle(self, results: list) -> None:
        now = self.clock()
        sent, retries, failed, unreachable = [], [], [], []
        unreachable_chats = {m.recipient for m, outcome in results if outcome and outcome.kind == "unreachable"}
        for message, outcome in results:
            if outcome is None and message.recipient in unreachable_chats:
                self.rows.settled(message)  # the store marks the patient's other rows failed
            elif outcome is None:
                self.rows.put_back(message)
            elif outcome.kind == "sent":
                sent.append((message.id, outcome.message_id))
                self.rows.settled(message)
            elif outcome.kind in ("retry", "transient"):
                if outcome.kind == "retry":
                    seconds = outcome.retry_after or 1
                else:
                    seconds = min(MAX_BACKOFF_SECONDS, 2 ** message.attempts)
                when = now + timedelta(seconds=seconds)
                retries.append((message.id, when))
                self.rows.put_back(replace(message, attempts=message.attempts + 1, not_before=when))
            elif outcome.kind == "unreachable" and message.patient_id is not None:
                log.info("patient unreachable", extra={"outbox_id": message.id})
                unreachable.append(message.patient_id)
                self.rows.settled(message)
                self.rows.drop_chat(message.recipient)
            else:
                log.warning("delivery failed for good", extra={"outbox_id": message.id, "reason": outcome.reason})
                failed.append(message.id)
                self.rows.settled(message)
        for outcome, rows in (("sent", sent), ("retry", retries), ("failed", failed), ("unreachable", unreachable)):
            count_delivery(self.platform, outcome, len(rows))
        self._unrecorded.extend(sent)
        if retries or failed or unreachable or len(self._unrecorded) >= RECORD_BATCH:
            self.record(retries, failed, unreachable)
        elif self._record_by is None:
            self._record_by = on_tick(asyncio.get_running_loop().time() + RECORD_SECONDS)

    def record(self, retries: list | None = None, failed: list | None = None, unreachable: list | None = None) -> None:
        """Write the outcomes not yet in the outbox in one transaction (deliveries are recorded in batches)."""
        if self._unrecorded or retries or failed or unreachable:
            self.outbox.settle(self.clock(), self._unrecorded, retries or [], failed or [], unreachable or [])
        self._unrecorded, self._record_by = [], None

    def close(self) -> None:
        """Record what was delivered and give up this worker's chats (a clean stop)."""
        self.record()
        self.claims.release(self.platform)

    def _remember(self, message: OutboundMessage, message_id: str) -> None:
        """Keep recent questions' message ids so that marking them answered needs no query."""
        if len(self._delivered) >= REMEMBERED_QUESTIONS:
            self._delivered.pop(next(iter(self._delivered)))
        self._delivered[(message.recipient, message.ref)] = (message_id, message.payload["text"])
