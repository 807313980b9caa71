"""Slack's Socket Mode: the bolt app takes Slack's requests over a websocket it opens itself, with no public URL."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

log = logging.getLogger(__name__)
APP_TOKEN_PREFIX = "xapp-"


def socket_handler(app: AsyncApp, app_token: str, ping_interval: float = 10) -> AsyncSocketModeHandler:
    """Build bolt's aiohttp Socket Mode handler on the app's web client; call it inside a running event loop."""
    if not app_token.startswith(APP_TOKEN_PREFIX):
        raise ValueError("SLACK_APP_TOKEN must be an app-level token (xapp-...)")
    # The app's client carries SLACK_API_URL as base_url, so apps.connections.open goes there; its logger
    # (slack_bolt.AsyncApp) is one of those bot.logs keeps at WARNING, as the SDK logs whole envelopes at DEBUG.
    return AsyncSocketModeHandler(app, app_token, web_client=app.client, ping_interval=ping_interval)


class SlackSocket:
    """The Socket Mode connection of one bolt app: open() connects in the background, close() ends it."""

    def __init__(self, app: AsyncApp, app_token: str, ping_interval: float = 10) -> None:
        """Keep what open() needs; nothing connects yet."""
        self.app, self.app_token, self.ping_interval = app, app_token, ping_interval
        self.handler: AsyncSocketModeHandler | None = None
        self._connecting: asyncio.Task | None = None

    async def open(self) -> AsyncSocketModeHandler:
        """Start connecting and return at once: the SDK retries while Slack is unreachable, and start-up never waits."""
        if self.handler is not None:
            raise RuntimeError("the Slack socket is already open")
        self.handler = socket_handler(self.app, self.app_token, self.ping_interval)
        self._connecting = asyncio.create_task(self.handler.connect_async())
        log.info("slack socket mode connecting")
        return self.handler

    async def connected(self) -> bool:
        """Tell whether the websocket to Slack is open and answering pings."""
        return self.handler is not None and await self.handler.client.is_connected()

    async def close(self) -> None:
        """Stop connecting, close the websocket and release the handler's HTTP session."""
        if self.handler is None:
            return
        handler, connecting, self.handler, self._connecting = self.handler, self._connecting, None, None
        handler.client.closed = True  # ends the SDK's retry loop before it opens another URL
        if connecting is not None and not connecting.done():
            connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await connecting
        await handler.close_async()
        log.info("slack socket mode closed")
