"""The delivery worker's queue in memory: each chat's rows in order, chats by their most urgent row."""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from datetime import datetime

from bot.services.ports import OutboundMessage

REMEMBERED_DONE = 200_000


class PendingRows:
    """Pending outbox rows by chat; a chat is ready, held until a retry time, or parked for its rate limit."""

    def __init__(self, remembered_done: int = REMEMBERED_DONE):
        self._chats: dict[str, list[tuple[int, int, OutboundMessage]]] = {}
        self._ready: list[tuple[int, int, str]] = []  # (priority, id, chat) of chat heads; stale entries skipped
        self._held: list[tuple[datetime, int, str]] = []  # chats whose head may not go before a time (the clock's)
        self._parked: list[tuple[float, int, str]] = []  # chats over their rate limit until a loop time
        self._waiting: dict[str, int] = {}  # chat -> token of its live entry in _held or _parked
        self._tokens = itertools.count()
        self._known: set[int] = set()
        self._done: set[int] = set()
        self._done_order: deque[int] = deque()
        self._remembered_done = remembered_done

    def __len__(self) -> int:
        """Return how many rows are queued."""
        return len(self._known)

    def is_new(self, row_id: int) -> bool:
        """Say whether a row is neither queued nor recently settled."""
        return row_id not in self._known and row_id not in self._done

    def add(self, message: OutboundMessage) -> bool:
        """Queue a row unless it is queued or settled already; return whether it was added."""
        if not self.is_new(message.id):
            return False
        self._known.add(message.id)
        self._push(message)
        return True

    def put_back(self, message: OutboundMessage) -> None:
        """Queue again a row that was taken but not delivered (its chat keeps its order)."""
        self._push(message)

    def _push(self, message: OutboundMessage) -> None:
        chat = self._chats.setdefault(message.recipient, [])
        entry = (message.priority, message.id, message)
        heapq.heappush(chat, entry)
        if chat[0] is entry and message.recipient not in self._waiting:
            heapq.heappush(self._ready, (message.priority, message.id, message.recipient))

    def next_ready(self, now: datetime) -> OutboundMessage | None:
        """Return the most urgent row whose chat may send now, without taking it."""
        while self._ready:
            priority, row_id, chat = self._ready[0]
            rows = self._chats.get(chat)
            if chat in self._waiting or not rows or rows[0][1] != row_id:
                heapq.heappop(self._ready)  # stale: the chat's head changed or it waits
                continue
            head = rows[0][2]
            if head.not_before is not None and head.not_before > now:
                heapq.heappop(self._ready)
                self._wait(self._held, head.not_before, chat)
                continue
            return head
        return None

    def is_waiting(self, chat: str) -> bool:
        """Say whether a chat is held or parked (its rows go when release() lets it)."""
        return chat in self._waiting

    def take(self, message: OutboundMessage) -> None:
        """Remove a row returned by next_ready(); the chat's next row becomes its head."""
        chat = self._chats[message.recipient]
        heapq.heappop(chat)
        heapq.heappop(self._ready)
        if chat:
            priority, row_id, _ = chat[0]
            heapq.heappush(self._ready, (priority, row_id, message.recipient))
        else:
            del self._chats[message.recipient]

    def park(self, chat: str, until: float) -> None:
        """Keep a chat out of next_ready() until the loop time `until` (it is over its rate limit)."""
        self._wait(self._parked, until, chat)

    def _wait(self, heap: list, until, chat: str) -> None:
        token = next(self._tokens)
        self._waiting[chat] = token
        heapq.heappush(heap, (until, token, chat))

    def release(self, now: datetime, loop_now: float) -> None:
        """Make chats ready again whose hold or parking time has come."""
        for heap, moment in ((self._held, now), (self._parked, loop_now)):
            while heap and heap[0][0] <= moment:
                _, token, chat = heapq.heappop(heap)
                if self._waiting.get(chat) != token:
                    continue
                del self._waiting[chat]
                rows = self._chats.get(chat)
                if rows:
                    heapq.heappush(self._ready, (rows[0][0], rows[0][1], chat))

    def settled(self, message: OutboundMessage) -> None:
        """Forget a row that was delivered or failed for good, and remember it so that it is not queued again."""
        self._known.discard(message.id)
        self._done.add(message.id)
        self._done_order.append(message.id)
        if len(self._done_order) > self._remembered_done:
            self._done.discard(self._done_order.popleft())

    def drop_chat(self, chat: str) -> list[OutboundMessage]:
        """Remove and return every queued row of a chat (its patient cannot be reached)."""
        dropped = [entry[2] for entry in self._chats.pop(chat, [])]
        self._waiting.pop(chat, None)
        for message in dropped:
            self.settled(message)
        return dropped

    def forget_chat(self, chat: str) -> None:
        """Remove a chat's queued rows without settling them (another worker sends them, or a later scan)."""
        for _, row_id, _ in self._chats.pop(chat, []):
            self._known.discard(row_id)
        self._waiting.pop(chat, None)

    def chats(self) -> list[str]:
        """Return the chats with rows queued."""
        return list(self._chats)

    def seconds_to_next(self, now: datetime, loop_now: float) -> float | None:
        """Return how long until a held or parked chat may send again (0 if one may now; None if none waits)."""
        if self._ready:
            return 0.0
        waits = []
        if self._held:
            waits.append((self._held[0][0] - now).total_seconds())
        if self._parked:
            waits.append(self._parked[0][0] - loop_now)
        return max(0.0, min(waits)) if waits else None
