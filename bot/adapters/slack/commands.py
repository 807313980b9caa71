"""Slash commands: ack at once, run the service off the event loop, answer the caller ephemerally."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.adapters.slack.inbound import typed
from bot.metrics import count_event
from bot.services.handle import Services
from bot.services.oncall_command import oncall_command

log = logging.getLogger(__name__)


def command_key(body: dict[str, Any]) -> str:
    """Return the idempotency key of one slash command (its trigger_id is unique to the invocation)."""
    return f"slack:command:{body.get('trigger_id') or ''}:{body.get('user_id') or ''}"


def register_commands(app: AsyncApp, services: Services, after: Callable) -> None:
    """Add /oncall to the bolt app."""

    @app.command("/oncall")
    async def on_oncall(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        user, text = body.get("user_id") or "", typed(body.get("text") or "")
        try:
            reply = await asyncio.to_thread(oncall_command, services, user, text, command_key(body))
        except Exception as exc:  # acked already: log the class only, never the text
            log.error("slack /oncall failed", extra={"error": type(exc).__name__})
            count_event("slack", "failed")
            return
        count_event("slack", reply.status)
        after(reply)
        await tell(respond, reply.note)


async def tell(respond: AsyncRespond | None, note: str | None) -> None:
    """Answer the caller with a note only they see; a failure is logged, not raised."""
    if not note or respond is None:
        return
    try:
        await respond(text=note, response_type="ephemeral", replace_original=False)
    except (asyncio.TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
        log.warning("slack ephemeral note not delivered", extra={"error": type(exc).__name__})
