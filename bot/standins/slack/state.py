"""The Slack stand-in's in-memory state: workspace, messages, triggers and recording.

Every public method takes the one lock, so the test thread and the server loop can share it.
"""

from __future__ import annotations

import copy
import hashlib
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bot.standins.slack.faults import Faults
from bot.standins.slack.limits import RateLimits
from bot.standins.slack.records import (
    Ephemeral,
    RecordedCall,
    ResponsePost,
    SlackError,
    SlackMessage,
    UploadedFile,
    user_dict,
)

FIRST_TS = 1_700_000_000_000_000  # microseconds; the first ts handed out is "1700000000.000100"


@dataclass
class ResponseUrl:
    """A response_url this stand-in issued, the message and user it belongs to, and what was posted to it."""

    id: str
    channel: str | None = None
    message_ts: str | None = None
    user: str | None = None
    posts: list[ResponsePost] = field(default_factory=list)


class SlackState:
    """Hold everything the fake Web API remembers; all access goes through the lock."""

    def __init__(self, limits: RateLimits | None = None) -> None:
        """Start with an empty workspace."""
        self.lock = threading.RLock()
        self.origin = ""  # http://127.0.0.1:PORT, set by the app once bound
        self.trigger_ttl: float | None = 3.0  # Slack's trigger_ids expire after 3 seconds
        self.calls: list[RecordedCall] = []
        self.watchers: list[queue.Queue] = []
        self.channels: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, dict[str, SlackMessage]] = {}
        self.ephemerals: dict[str, list[Ephemeral]] = {}
        self.views: dict[str, list[dict[str, Any]]] = {}  # user -> open modal stack, root first
        self.homes: dict[str, dict[str, Any]] = {}
        self.files: dict[str, UploadedFile] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self._triggers: dict[str, tuple[str | None, float, bool]] = {}
        self.faults = Faults(limits)
        self._ts = FIRST_TS
        self._serial = 0

    # -- ids ---------------------------------------------------------------------

    def next_ts(self) -> str:
        """Return a fresh message ts, greater than every earlier one."""
        with self.lock:
            self._ts += 100
            return f"{self._ts // 1_000_000}.{self._ts % 1_000_000:06d}"

    def next_id(self, prefix: str) -> str:
        """Return a fresh Slack-style id such as V00000001."""
        with self.lock:
            self._serial += 1
            return f"{prefix}{self._serial:08X}"

    # -- workspace -----------------------------------------------------------------

    def add_channel(self, channel_id: str, name: str, **extra: Any) -> dict[str, Any]:
        """Register a channel and return its conversation object."""
        with self.lock:
            self.channels[channel_id] = {"id": channel_id, "name": name, "is_channel": True, "is_im": False,
                                         "created": int(time.time()), **extra}
            return dict(self.channels[channel_id])

    def add_user(self, user_id: str, name: str, real_name: str | None = None, tz: str = "America/New_York",
                 is_bot: bool = False) -> dict[str, Any]:
        """Register a workspace member and return its user object."""
        with self.lock:
            self.users[user_id] = user_dict(user_id, name, real_name, tz, is_bot)
            return copy.deepcopy(self.users[user_id])

    @staticmethod
    def dm_id(users: list[str]) -> str:
        """Return the stable conversation id of the bot's DM (or group DM) with these users."""
        if len(users) == 1:
            return "D" + users[0][1:]
        return "G" + hashlib.sha1(",".join(sorted(users)).encode()).hexdigest()[:10].upper()

    def open_dm(self, users: list[str]) -> str:
        """Open (or find) the DM with registered users and return its id."""
        with self.lock:
            if not users or any(u not in self.users for u in users):
                raise SlackError("user_not_found")
            dm = self.dm_id(users)
            self.channels.setdefault(dm, {"id": dm, "is_im": len(users) == 1, "is_mpim": len(users) > 1,
                                          "user": users[0], "created": int(time.time())})
            return dm

    def resolve(self, channel: Any) -> str:
        """Return the id for a channel id, #name or user id (posting to a user goes to their DM)."""
        with self.lock:
            channel = str(channel or "")
            if channel in self.channels:
                return channel
            for known in self.channels.values():
                if known.get("name") and known["name"] == channel.lstrip("#"):
                    return known["id"]
            if channel in self.users:
                return self.open_dm([channel])
            raise SlackError("channel_not_found")

    # -- messages --------------------------------------------------------------------

    def store(self, message: SlackMessage) -> None:
        """Remember a new or changed message and tell the watchers."""
        with self.lock:
            self.messages.setdefault(message.channel, {})[message.ts] = message
            for watcher in self.watchers:
                watcher.put(copy.deepcopy(message))

    def find(self, channel: str, ts: str) -> SlackMessage:
        """Return the live message, or raise message_not_found."""
        with self.lock:
            message = self.messages.get(channel, {}).get(str(ts))
            if message is None:
                raise SlackError("message_not_found")
            return message

    def edit(self, channel: str, ts: str, text: str | None, blocks: list | None) -> SlackMessage:
        """Replace text and/or blocks, keeping the earlier version in the message's edits."""
        with self.lock:
            message = self.find(channel, ts)
            message.edits.append({"text": message.text, "blocks": message.blocks, "edited_ts": self.next_ts()})
            message.text = message.text if text is None else text
            message.blocks = message.blocks if blocks is None else blocks
            self.store(message)
            return copy.deepcopy(message)

    def forget(self, channel: str, ts: str) -> None:
        """Delete a message, or raise message_not_found."""
        with self.lock:
            self.find(channel, ts)
            del self.messages[channel][str(ts)]

    def add_ephemeral(self, ephemeral: Ephemeral) -> None:
        """Remember a message only one user sees."""
        with self.lock:
            self.ephemerals.setdefault(ephemeral.user, []).append(ephemeral)

    # -- triggers and response URLs ----------------------------------------------------

    def issue_trigger(self, user: str | None) -> str:
        """Issue a trigger_id for a user, usable once within trigger_ttl seconds."""
        with self.lock:
            self._serial += 1
            digest = hashlib.sha1(f"trigger{self._serial}".encode()).hexdigest()[:32]
            trigger = f"{FIRST_TS // 1_000_000 + self._serial}.{self._serial}.{digest}"
            self._triggers[trigger] = (user, time.monotonic(), False)
            return trigger

    def use_trigger(self, trigger_id: Any) -> str | None:
        """Spend a trigger_id and return its user; raise Slack's error if it is unknown, used or expired."""
        with self.lock:
            if not trigger_id:
                raise SlackError("invalid_arguments")
            if trigger_id not in self._triggers:
                raise SlackError("invalid_trigger_id")
            user, issued, used = self._triggers[trigger_id]
            if used:
                raise SlackError("exchanged_trigger_id")
            if self.trigger_ttl is not None and time.monotonic() - issued > self.trigger_ttl:
                raise SlackError("expired_trigger_id")
            self._triggers[trigger_id] = (user, issued, True)
            return user

    def new_response_url(self, channel: str | None, message_ts: str | None, user: str | None) -> ResponseUrl:
        """Issue a response_url bound to a message and user."""
        with self.lock:
            url = ResponseUrl(self.next_id("R"), channel, message_ts, user)
            self.response_urls[url.id] = url
            return url

    # -- recording ------------------------------------------------------------------------

    def record(self, method: str, params: dict[str, Any]) -> RecordedCall:
        """Append a call to the log and return it (its status is filled in later)."""
        call = RecordedCall(method, copy.deepcopy(params), time.monotonic())
        with self.lock:
            self.calls.append(call)
        return call
