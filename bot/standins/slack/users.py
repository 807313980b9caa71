"""Simulated Slack users: build the signed requests Slack would post to an app, and post them."""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.standins.slack import payloads as make
from bot.standins.slack.records import SlackError
from bot.standins.slack.state import SlackState
from bot.standins.slack.surfaces import answer_submission, find_view

FORM = "application/x-www-form-urlencoded"
SIGNINGS = ("valid", "unsigned", "stale", "wrong")
STALE_SECONDS = 600  # Bolt refuses requests older than five minutes


@dataclass
class SlackRequest:
    """A request Slack would post to the app: target URL, exact body and content type (signed when sent)."""

    url: str
    body: bytes
    content_type: str
    payload: dict[str, Any] = field(default_factory=dict)


class SlackUsers:
    """Mixin for FakeSlackApi: make_* build a request (not sent), the verbs build it, sign it and post it."""

    state: SlackState
    signing_secret: str
    events_url: str | None
    user_timeout: float = 10.0
    last_request: SlackRequest | None = None

    def new_response_url(self, channel: str | None = None, message_ts: str | None = None,
                         user: str | None = None) -> str:
        """Issue a loopback response_url; posts to it are recorded (and applied to the message, if bound)."""
        return f"{self.state.origin}/response/{self.state.new_response_url(channel, message_ts, user).id}"

    def new_trigger_id(self, user: str | None = None) -> str:
        """Issue a trigger_id for views.open/push, usable once within state.trigger_ttl seconds."""
        return self.state.issue_trigger(user)

    def sign(self, body: bytes | str, timestamp: int | None = None, secret: str | None = None) -> dict[str, str]:
        """Return the X-Slack-Request-Timestamp and X-Slack-Signature headers for body."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = SignatureVerifier(secret or self.signing_secret).generate_signature(timestamp=stamp, body=body)
        return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature or ""}

    def _request(self, url: str | None, payload: dict[str, Any], form: dict[str, str] | None = None) -> SlackRequest:
        target = url or self.events_url
        if not target:
            raise ValueError("set events_url (the app's Slack request URL) or pass url=")
        if form is not None:
            return SlackRequest(target, urlencode(form).encode(), FORM, payload)
        return SlackRequest(target, json.dumps(payload).encode(), "application/json", payload)

    def make_button_press(self, user: str, channel: str, message_ts: str, action_id: str, value: str | None = None,
                          *, block_id: str | None = None, require_button: bool = True,
                          url: str | None = None) -> SlackRequest:
        """Build the block_actions request for pressing a button under the bot's message."""
        channel = self.state.resolve(channel)
        try:
            with self.state.lock:
                message = copy.deepcopy(self.state.find(channel, message_ts))
        except SlackError as exc:
            raise LookupError(f"no message {message_ts} in channel {channel}") from exc
        button = make.find_button(message, action_id, value)
        if button is None and require_button:
            raise ValueError(f"message {message_ts} has no button {action_id!r} with value {value!r}")
        action = dict(button or {"type": "button", "action_id": action_id, "value": value})
        if block_id is not None:
            action["block_id"] = block_id
        action.setdefault("block_id", None)
        response_url = self.new_response_url(channel, message_ts, user)
        payload = make.block_actions(self.state, user, message, action, self.new_trigger_id(user), response_url)
        return self._request(url, payload, {"payload": json.dumps(payload)})

    def make_slash_command(self, user: str, command: str, text: str = "", channel: str | None = None, *,
                           url: str | None = None) -> SlackRequest:
        """Build the request for a slash command typed in a channel (default: the user's DM with the app)."""
        channel = self.state.resolve(channel) if channel else self.state.dm_id([user])
        form = make.slash_command(self.state, user, command, text, channel, self.new_trigger_id(user),
                                  self.new_response_url(channel, None, user))
        return self._request(url, dict(form), form)

    def make_view_submission(self, user: str, view: str, values: dict | None = None,
                             private_metadata: str | None = None, *, url: str | None = None) -> SlackRequest:
        """Build the view_submission request for an open modal found by view id, external_id or callback_id."""
        try:
            owner, views, index = find_view(self.state, view)
        except SlackError as exc:
            raise LookupError(f"no open view {view!r}") from exc
        if owner != user:
            raise LookupError(f"view {view!r} is open for {owner!r}, not {user!r}")
        payload = make.view_submission(self.state, user, views[index], values, private_metadata,
                                       self.new_trigger_id(user))
        return self._request(url, payload, {"payload": json.dumps(payload)})

    def make_event(self, event_type: str, fields: dict[str, Any], *, url: str | None = None) -> SlackRequest:
        """Build an Events API event_callback request."""
        return self._request(url, make.event_callback(self.state, event_type, fields))

    def _headers(self, request: SlackRequest, signing: str, retry_num: int | None, retry_reason: str) -> dict:
        if signing not in SIGNINGS:
            raise ValueError(f"signing must be one of {SIGNINGS}")
        headers = {"Content-Type": request.content_type}
        if signing == "stale":
            headers.update(self.sign(request.body, int(time.time()) - STALE_SECONDS))
        elif signing == "wrong":
            headers.update(self.sign(request.body, secret=self.signing_secret + "-wrong"))
        elif signing == "valid":
            headers.update(self.sign(request.body))
        if retry_num:
            headers.update({"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason})
        return headers

    def send(self, request: SlackRequest, *, signing: str = "valid", retry_num: int | None = None,
             retry_reason: str = "http_timeout") -> httpx.Response:
        """Post the request (signing: valid, unsigned, stale or wrong) and return the app's HTTP response."""
        headers = self._headers(request, signing, retry_num, retry_reason)
        self.last_request = request
        with httpx.Client(trust_env=False, timeout=self.user_timeout) as client:
            return client.post(request.url, content=request.body, headers=headers)

    async def asend(self, request: SlackRequest, *, signing: str = "valid", retry_num: int | None = None,
                    retry_reason: str = "http_timeout") -> httpx.Response:
        """Post the request from async code; otherwise like send()."""
        headers = self._headers(request, signing, retry_num, retry_reason)
        self.last_request = request
        async with httpx.AsyncClient(trust_env=False, timeout=self.user_timeout) as client:
            return await client.post(request.url, content=request.body, headers=headers)

    def redeliver(self, retry_num: int = 1, reason: str = "http_timeout") -> httpx.Response:
        """Post the last request again with the same body, freshly signed, as Slack's retry number retry_num."""
        if self.last_request is None:
            raise LookupError("nothing was sent yet")
        return self.send(self.last_request, retry_num=retry_num, retry_reason=reason)

    def press_button(self, user: str, channel: str, message_ts: str, action_id: str, value: str | None = None,
                     *, block_id: str | None = None, require_button: bool = True) -> httpx.Response:
        """Press a button under the bot's message and return the app's response."""
        return self.send(self.make_button_press(user, channel, message_ts, action_id, value, block_id=block_id,
                                                require_button=require_button))

    def slash_command(self, user: str, command: str, text: str = "", channel: str | None = None) -> httpx.Response:
        """Type a slash command and return the app's response."""
        return self.send(self.make_slash_command(user, command, text, channel))

    def submit_view(self, user: str, view: str, values: dict | None = None,
                    private_metadata: str | None = None) -> httpx.Response:
        """Submit an open modal, apply the app's response_action to the user's modal stack, and return it."""
        response = self.send(self.make_view_submission(user, view, values, private_metadata))
        if response.status_code == 200:
            try:
                answer = response.json() if response.content.strip() else None
            except ValueError:
                answer = None
            answer_submission(self.state, user, view, answer)
        return response

    def event(self, event_type: str, /, **fields: Any) -> httpx.Response:
        """Deliver an event (e.g. app_home_opened with user=...) and return the app's response."""
        return self.send(self.make_event(event_type, fields))
