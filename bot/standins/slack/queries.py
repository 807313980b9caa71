"""What tests read back from the Slack stand-in: calls, messages, ephemerals, views, files, response_url posts."""

from __future__ import annotations

import copy
import queue
from typing import Any
from urllib.parse import urlsplit

from bot.standins.slack.records import Ephemeral, RecordedCall, ResponsePost, SlackError, SlackMessage, UploadedFile
from bot.standins.slack.state import SlackState


class SlackQueries:
    """Mixin for FakeSlackApi: read-only views of the recorded state, as copies."""

    state: SlackState

    def _channel_id(self, channel: str) -> str:
        try:
            return self.state.resolve(channel)
        except SlackError:
            return channel

    @property
    def calls(self) -> list[RecordedCall]:
        """Return every Web API request received so far, in arrival order."""
        with self.state.lock:
            return list(self.state.calls)

    def calls_of(self, method: str) -> list[RecordedCall]:
        """Return the recorded calls of one method (e.g. chat.postMessage; case-insensitive)."""
        return [call for call in self.calls if call.method.lower() == method.lower()]

    @property
    def too_many_requests(self) -> int:
        """Return how many 429 answers were sent."""
        return self.state.faults.too_many_requests

    def messages(self, channel: str) -> list[SlackMessage]:
        """Return the channel's messages (thread replies included) as now shown, oldest first."""
        with self.state.lock:
            stored = self.state.messages.get(self._channel_id(channel), {})
            return [copy.deepcopy(m) for m in sorted(stored.values(), key=lambda m: _ts_key(m.ts))]

    def message(self, channel: str, ts: str) -> SlackMessage | None:
        """Return one message as now shown, or None."""
        with self.state.lock:
            return copy.deepcopy(self.state.messages.get(self._channel_id(channel), {}).get(ts))

    def thread(self, channel: str, ts: str) -> list[SlackMessage]:
        """Return a thread: the parent message first, then its replies, oldest first."""
        return [m for m in self.messages(channel) if m.ts == ts or m.thread_ts == ts]

    def ephemerals(self, user: str) -> list[Ephemeral]:
        """Return the messages only this user saw (chat.postEphemeral and ephemeral responses), oldest first."""
        with self.state.lock:
            return copy.deepcopy(self.state.ephemerals.get(user, []))

    def home(self, user: str) -> dict[str, Any] | None:
        """Return the user's App Home as last published, or None."""
        with self.state.lock:
            return copy.deepcopy(self.state.homes.get(user))

    def views(self, user: str) -> list[dict[str, Any]]:
        """Return the user's open modal stack, the root view first."""
        with self.state.lock:
            return copy.deepcopy(self.state.views.get(user, []))

    @property
    def files(self) -> list[UploadedFile]:
        """Return every file announced for upload, in order (completed ones carry channel and comment)."""
        with self.state.lock:
            return copy.deepcopy(list(self.state.files.values()))

    def dm_channel(self, user: str) -> str:
        """Return the id of the bot's DM with the user (the same one conversations.open gives)."""
        return self.state.dm_id([user])

    def responses(self, response_url: str | None = None) -> list[ResponsePost]:
        """Return the posts to one response_url (a URL or its id), or to all of them, in order."""
        url_id = urlsplit(response_url).path.rsplit("/", 1)[-1] if response_url else None
        with self.state.lock:
            posts = [p for u in self.state.response_urls.values() if url_id in (None, u.id) for p in u.posts]
        return sorted(copy.deepcopy(posts), key=lambda p: p.time)

    def watch(self) -> queue.Queue:
        """Return a queue that receives a copy of every message posted or changed from now on."""
        watcher: queue.Queue = queue.Queue()
        with self.state.lock:
            self.state.watchers.append(watcher)
        return watcher


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    return int(seconds), int(micros or 0)
