"""Deliver Slack outbox rows through the Web API, translating Slack's answers into outcomes."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.blocks import page_blocks
from bot.adapters.telegram.outbound import Outcome
from bot.services.ports import OutboundMessage

log = logging.getLogger(__name__)

EDIT_KINDS = ("page_update", "thread")  # rows whose `original` is the delivered page: (ts, text)
PAGE_EVENT = "carebridge_page"  # message metadata naming a page's outbox row, so a resend can find it posted
HISTORY_LIMIT = 200  # the channel's latest messages searched for a page that may have been posted already
# Errors Slack answers with HTTP 200 that its documentation says are worth retrying.
TRANSIENT_ERRORS = ("internal_error", "fatal_error", "service_unavailable", "request_timeout")


class SlackSender:
    """Post pages, edit them, reply in their threads, post to channels and send DMs with an AsyncWebClient."""

    attempts_recorded_first = ("page",)  # the worker records an attempt before sending these, see _page

    def __init__(self, client: AsyncWebClient):
        self.client = client

    async def deliver(self, message: OutboundMessage, original: tuple[str, str] | None) -> Outcome:
        """Send one outbox row; page_update and thread rows refer to the page through `original`."""
        send = {"page": self._page, "page_update": self._page_update, "thread": self._thread, "dm": self._dm,
                "post": self._post}.get(message.kind)
        if send is None:
            log.warning("slack delivery of an unknown kind", extra={"outbox_id": message.id, "kind": message.kind})
            return Outcome("failed", reason="unknown_kind")
        try:
            return await send(message, original)
        except SlackApiError as exc:
            return _outcome_of(exc, message)
        except (asyncio.TimeoutError, aiohttp.ClientError, OSError):
            return Outcome("transient", reason="network")
        except (KeyError, TypeError):
            log.warning("slack payload incomplete", extra={"outbox_id": message.id, "kind": message.kind})
            return Outcome("failed", reason="bad_payload")

    async def _page(self, message: OutboundMessage, _original: tuple[str, str] | None) -> Outcome:
        """Post a page once: a row tried before (a crash, a timeout) is looked for in the channel first."""
        payload = message.payload
        if message.attempts:
            try:
                found = await self._posted(payload["channel"], message.id)
            except SlackApiError as exc:  # cannot look (e.g. no channels:history): a page twice beats none
                if _outcome_of(exc, message).kind != "failed":
                    raise
                found = None
            if found is not None:
                return Outcome("sent", message_id=found)
        posted = await self.client.chat_postMessage(
            channel=payload["channel"], text=payload["text"], blocks=page_blocks(payload), unfurl_links=False,
            unfurl_media=False, metadata={"event_type": PAGE_EVENT, "event_payload": {"outbox_id": message.id}})
        return Outcome("sent", message_id=posted["ts"])

    async def _posted(self, channel: str, outbox_id: int) -> str | None:
        """Return the ts of the page this outbox row already posted, if the channel shows one."""
        history = await self.client.conversations_history(channel=channel, limit=HISTORY_LIMIT,
                                                          include_all_metadata=True)
        for posted in history.get("messages") or []:
            metadata = posted.get("metadata") or {}
            if metadata.get("event_type") == PAGE_EVENT and \
                    (metadata.get("event_payload") or {}).get("outbox_id") == outbox_id:
                return posted.get("ts")
        return None

    async def _page_update(self, message: OutboundMessage, original: tuple[str, str] | None) -> Outcome:
        payload = message.payload
        if original is None:
            return Outcome("failed", reason="no_page")
        ts, _text = original
        await self.client.chat_update(channel=payload["channel"], ts=ts, text=payload["text"],
                                      blocks=page_blocks(payload))
        return Outcome("sent", message_id=ts)

    async def _thread(self, message: OutboundMessage, original: tuple[str, str] | None) -> Outcome:
        payload = message.payload
        thread_ts = original[0] if original is not None else None
        posted = await self.client.chat_postMessage(channel=payload["channel"], text=payload["text"], mrkdwn=True,
                                                    thread_ts=thread_ts, unfurl_links=False, unfurl_media=False)
        return Outcome("sent", message_id=posted["ts"])

    async def _post(self, message: OutboundMessage, _original: tuple[str, str] | None) -> Outcome:
        payload = message.payload
        posted = await self.client.chat_postMessage(channel=payload["channel"], text=payload["text"], mrkdwn=True,
                                                    unfurl_links=False, unfurl_media=False)
        return Outcome("sent", message_id=posted["ts"])

    async def _dm(self, message: OutboundMessage, _original: tuple[str, str] | None) -> Outcome:
        payload = message.payload
        opened = await self.client.conversations_open(users=payload["user"])
        posted = await self.client.chat_postMessage(channel=opened["channel"]["id"], text=payload["text"],
                                                    mrkdwn=True, unfurl_links=False, unfurl_media=False)
        return Outcome("sent", message_id=posted["ts"])


def _outcome_of(exc: SlackApiError, message: OutboundMessage) -> Outcome:
    """Translate a Web API error: 429 -> retry, 5xx and Slack's transient errors -> transient, else failed."""
    response = exc.response
    status = getattr(response, "status_code", None) or getattr(response, "status", None) or 0  # aiohttp's on bad JSON
    error = _error_code(response)
    if status == 429 or error == "ratelimited":
        return Outcome("retry", retry_after=_retry_after(response), reason="ratelimited")
    if status >= 500 or error in TRANSIENT_ERRORS:
        return Outcome("transient", reason=error or f"http_{status}")
    log.warning("slack refused a delivery", extra={"outbox_id": message.id, "kind": message.kind, "error": error})
    return Outcome("failed", reason=error or f"http_{status}")


def _error_code(response: Any) -> str | None:
    try:
        error = response.get("error")
    except (AttributeError, TypeError, ValueError):
        return None
    return error if isinstance(error, str) else None


def _retry_after(response: Any) -> float | None:
    headers = getattr(response, "headers", None) or {}
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return float(value[0] if isinstance(value, list) else value)
            except (TypeError, ValueError):
                return None
    return None
