"""The stand-in's in-memory state: chats, messages, the update queue, recording and faults.

Every public method takes the one lock, so the test thread and the server loop can share it.
"""

from __future__ import annotations

import asyncio
import copy
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bot.standins.telegram import updates as make
from bot.standins.telegram.limits import LIMITED_METHODS, RateLimiter, RateLimits

_PHRASES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
            429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
            503: "Service Unavailable", 504: "Gateway Timeout"}


class ApiError(Exception):
    """Carry a Telegram error answer: HTTP status, description and optional parameters."""

    def __init__(self, status: int, description: str | None = None, parameters: dict | None = None) -> None:
        """Default the description to Telegram's phrase for the status."""
        super().__init__(description or _PHRASES.get(status, "Error"))
        self.status, self.description, self.parameters = status, str(self), parameters

    @classmethod
    def too_many(cls, retry_after: int) -> ApiError:
        """Build the 429 answer Telegram sends when flooded."""
        return cls(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})

    def body(self) -> dict[str, Any]:
        """Return the JSON body Telegram sends for this error."""
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


@dataclass
class RecordedCall:
    """One request the stand-in received, with the HTTP status it answered."""

    method: str
    params: dict[str, Any]
    time: float
    chat_id: int | str | None = None
    status: int | None = None


@dataclass
class SentMessage:
    """A bot message as the user now sees it (edits applied)."""

    chat_id: int | str
    message_id: int
    text: str
    reply_markup: dict[str, Any] | None
    date: int
    edit_date: int | None = None

    @property
    def keyboard(self) -> list[list[dict[str, Any]]]:
        """Return the inline keyboard rows, or [] when the message has none."""
        return (self.reply_markup or {}).get("inline_keyboard", [])

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        """Return (label, callback_data) for every inline button, row by row."""
        return [(b.get("text", ""), b.get("callback_data")) for row in self.keyboard for b in row]


@dataclass(frozen=True)
class AnsweredCallback:
    """One answerCallbackQuery call."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None = None


@dataclass
class _Fault:
    status: int
    retry_after: int | None
    description: str | None
    delay: float


@dataclass
class BotState:
    """Hold everything the fake API remembers; all access goes through the lock."""

    limits: RateLimits | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)
    calls: list[RecordedCall] = field(default_factory=list)
    answered_callbacks: list[AnsweredCallback] = field(default_factory=list)
    too_many_requests: int = 0
    commands: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    webhook: dict[str, Any] = field(default_factory=dict)
    allowed_updates: list[str] | None = None

    watchers: list = field(default_factory=list)  # queue.Queue objects fed every new bot message

    def __post_init__(self) -> None:
        self._chats: dict[int | str, dict[str, Any]] = {}
        self._sent: dict[int | str, dict[int, SentMessage]] = {}
        self._last_message_id: dict[int | str, int] = {}
        self._pending: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._serial = 0
        self._open_queries: set[str] = set()
        self._blocked: set[int | str] = set()
        self._faults: dict[str, list[_Fault]] = {}
        self._limiter = RateLimiter(self.limits) if self.limits else None
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self.closing = False

    # -- chats and messages -------------------------------------------------

    def add_chat(self, chat_id: int | str, chat_type: str = "private", title: str | None = None) -> dict:
        """Register a chat (type private, group, supergroup or channel) and return its Chat object."""
        with self.lock:
            self._chats[chat_id] = make.chat_dict(chat_id, chat_type, title)  # type: ignore[arg-type]
            return dict(self._chats[chat_id])

    def chat(self, chat_id: int | str) -> dict[str, Any]:
        """Return the Chat object, treating unknown chats as private chats with a user."""
        with self.lock:
            return dict(self._chats.get(chat_id) or make.chat_dict(chat_id))  # type: ignore[arg-type]

    def next_message_id(self, chat_id: int | str) -> int:
        """Allocate the chat's next message_id (users and the bot share one sequence per chat)."""
        with self.lock:
            self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
            return self._last_message_id[chat_id]

    def next_serial(self) -> int:
        """Return a fresh number for file and query ids."""
        with self.lock:
            self._serial += 1
            return self._serial

    def store(self, message: SentMessage) -> None:
        """Remember a message the bot sent, and tell the watchers."""
        with self.lock:
            self._sent.setdefault(message.chat_id, {})[message.message_id] = message
            for watcher in self.watchers:
                watcher.put(copy.deepcopy(message))

    def find(self, chat_id: int | str, message_id: int) -> SentMessage | None:
        """Return the live bot message, or None."""
        with self.lock:
            return self._sent.get(chat_id, {}).get(message_id)

    def forget(self, chat_id: int | str, message_id: int) -> bool:
        """Delete a bot message; return whether it existed."""
        with self.lock:
            return self._sent.get(chat_id, {}).pop(message_id, None) is not None

    def sent(self, chat_id: int | str) -> list[SentMessage]:
        """Return copies of the chat's bot messages in order."""
        with self.lock:
            return [copy.deepcopy(m) for m in self._sent.get(chat_id, {}).values()]

    def message_json(self, message: SentMessage) -> dict[str, Any]:
        """Return the Message object Telegram would return for a bot message."""
        markup = message.reply_markup if message.keyboard else None
        return make.message_dict(message.message_id, self.chat(message.chat_id), make.BOT_USER, message.date,
                                 edit_date=message.edit_date, text=message.text,
                                 reply_markup=copy.deepcopy(markup))

    # -- callback queries -----------------------------------------------------

    def open_query(self) -> str:
        """Issue a callback_query id the bot may answer once."""
        with self.lock:
            query_id = str(4_000_000_000_000_000 + self.next_serial())
            self._open_queries.add(query_id)
            return query_id

    def close_query(self, query_id: str) -> bool:
        """Mark a query answered; return False if it was never issued or already answered."""
        with self.lock:
            if query_id not in self._open_queries:
                return False
            self._open_queries.discard(query_id)
            return True

    # -- updates ---------------------------------------------------------------

    def new_update(self, **payload: Any) -> dict[str, Any]:
        """Wrap one payload in an Update with the next update_id (not queued)."""
        with self.lock:
            update = make.update_dict(self._next_update_id, **payload)
            self._next_update_id += 1
            return update

    def enqueue(self, update: dict[str, Any]) -> None:
        """Queue an update for getUpdates and wake long polls."""
        with self.lock:
            self._pending.append(copy.deepcopy(update))
        self.wake()

    def pending_count(self) -> int:
        """Return how many updates wait for confirmation."""
        with self.lock:
            return len(self._pending)

    def drop_pending(self) -> None:
        """Forget every queued update."""
        with self.lock:
            self._pending.clear()

    def take_updates(self, offset: int | None, limit: int) -> list[dict[str, Any]]:
        """Confirm updates below offset (or keep the last -offset) and return up to limit of the rest."""
        with self.lock:
            if offset is not None and offset < 0:
                del self._pending[: max(0, len(self._pending) + offset)]
            elif offset:
                self._pending = [u for u in self._pending if u["update_id"] >= offset]
            if self.allowed_updates:
                self._pending = [u for u in self._pending if make.update_kind(u) in self.allowed_updates]
            return copy.deepcopy(self._pending[:limit])

    def add_waiter(self, event: asyncio.Event) -> None:
        """Register a long poll's event, to be set from any thread when an update arrives."""
        with self.lock:
            self._waiters.add((asyncio.get_running_loop(), event))

    def remove_waiter(self, event: asyncio.Event) -> None:
        """Unregister a long poll's event."""
        with self.lock:
            self._waiters = {w for w in self._waiters if w[1] is not event}

    def wake(self) -> None:
        """Set every waiting long poll's event in its own loop."""
        with self.lock:
            waiters = list(self._waiters)
        for loop, event in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    # -- recording, faults and limits -------------------------------------------

    def record(self, method: str, params: dict[str, Any]) -> RecordedCall:
        """Append a call to the log and return it (its status is filled in later)."""
        chat_id = params.get("chat_id")
        call = RecordedCall(method, copy.deepcopy(params), time.monotonic(), chat_id)
        with self.lock:
            self.calls.append(call)
        return call

    def block(self, chat_id: int | str, blocked: bool = True) -> None:
        """Make the user of a chat block (or unblock) the bot."""
        with self.lock:
            (self._blocked.add if blocked else self._blocked.discard)(chat_id)

    def add_fault(self, method: str, status: int, times: int, retry_after: int | None,
                  description: str | None, delay: float) -> None:
        """Make the next `times` calls of method fail (status 0 means: only delay)."""
        if status == 429 and retry_after is None:
            retry_after = 1
        with self.lock:
            queue = self._faults.setdefault(method.lower(), [])
            queue.extend(_Fault(status, retry_after, description, delay) for _ in range(times))

    def take_fault(self, method: str) -> tuple[float, ApiError | None]:
        """Pop the method's next fault: (delay seconds, error to answer or None)."""
        with self.lock:
            queue = self._faults.get(method.lower())
            if not queue:
                return 0.0, None
            fault = queue.pop(0)
            if fault.status == 0:
                return fault.delay, None
            if fault.status == 429:
                self.too_many_requests += 1
                return fault.delay, ApiError.too_many(fault.retry_after or 1)
            params = {"retry_after": fault.retry_after} if fault.retry_after else None
            return fault.delay, ApiError(fault.status, fault.description, params)

    def admit(self, method: str, chat_id: int | str | None) -> None:
        """Raise the 403 or 429 Telegram would answer before doing anything for the call."""
        with self.lock:
            if chat_id is not None and chat_id in self._blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if self._limiter is None or method.lower() not in LIMITED_METHODS:
                return
            is_group = self.chat(chat_id)["type"] in ("group", "supergroup") if chat_id is not None else False
            retry_after = self._limiter.check(chat_id, is_group, time.monotonic())
            if retry_after is not None:
                self.too_many_requests += 1
                raise ApiError.too_many(retry_after)
