"""Slack's Socket Mode for FakeSlackApi: apps.connections.open hands out a URL, envelopes go out, acks come back."""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from bot.standins.server import LoopbackServer
from bot.standins.slack.records import APP_ID
from bot.standins.slack.users import SlackRequest

ACK_SECONDS = 3.0  # Slack waits this long for an envelope's ack
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})  # the Web API methods that take only an xapp- token
INTERACTIVE = frozenset({"block_actions", "block_suggestion", "view_submission", "view_closed", "shortcut",
                         "message_action", "interactive_message"})
ANSWERABLE = frozenset({"block_suggestion", "view_submission"})  # interactive payloads whose ack may carry an answer
DEBUG_INFO = {"host": "applink-standin", "build_number": 1, "approximate_connection_time": 18060}


def envelope(payload: dict[str, Any], retry_attempt: int = 0, retry_reason: str = "") -> dict[str, Any]:
    """Wrap a request payload as Socket Mode does: type interactive, slash_commands or events_api."""
    kind = payload.get("type")
    if kind == "event_callback":
        fields: dict[str, Any] = {"type": "events_api", "accepts_response_payload": False,
                                  "retry_attempt": retry_attempt, "retry_reason": retry_reason}
    elif kind in INTERACTIVE:
        fields = {"type": "interactive", "accepts_response_payload": kind in ANSWERABLE}
    elif "command" in payload:
        fields = {"type": "slash_commands", "accepts_response_payload": True}
    else:
        raise ValueError(f"Socket Mode has no envelope for a {kind!r} payload")
    return {"envelope_id": str(uuid.uuid4()), "payload": payload, **fields}


@dataclass
class Ticket:
    """One URL apps.connections.open handed out: the token that asked, and whether a socket used it (once only)."""

    id: str
    token: str
    used: bool = False


class SocketModeServer(LoopbackServer):
    """Serve Socket Mode websockets with aiohttp on their own loopback port, as Slack's wss host is not slack.com."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Bind a loopback socket (serving starts with start())."""
        super().__init__(None, host=host, port=port, name="FakeSlackSockets")
        self.lock = threading.Lock()
        self.tickets: dict[str, Ticket] = {}
        self.acks: list[dict[str, Any]] = []
        self._open: list[web.WebSocketResponse] = []
        self._waiting: dict[str, asyncio.Future] = {}
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def open_url(self, token: str) -> dict[str, Any]:
        """Answer apps.connections.open: a fresh URL that one websocket may use."""
        ticket = Ticket(uuid.uuid4().hex, token)
        with self.lock:
            self.tickets[ticket.id] = ticket
        return {"url": f"{self.origin.replace('http', 'ws', 1)}/socket/{ticket.id}"}

    @property
    def connected(self) -> int:
        """Return how many app connections are open."""
        return sum(not ws.closed for ws in list(self._open))

    async def start(self) -> None:
        """Serve in the running event loop."""
        if self._runner is not None:
            raise RuntimeError(f"{self.name} is already running")
        if self._socket is None:
            self._bind()
        app = web.Application()
        app.router.add_get("/socket/{ticket}", self._connect)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, self._socket).start()
        self._loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        """Close the app's connections, stop serving and release the port."""
        if self._runner is None:
            return
        for ws in list(self._open):
            await ws.close(code=WSCloseCode.GOING_AWAY)
        try:
            await self._runner.cleanup()
        finally:
            self._runner = self._loop = None
            self.close()

    async def _connect(self, request: web.Request) -> web.StreamResponse:
        with self.lock:
            ticket = self.tickets.get(request.match_info["ticket"])
            fresh = ticket is not None and not ticket.used
            if ticket is not None:
                ticket.used = True
        if not fresh:
            return web.Response(status=401, text="invalid_ticket")
        ws = web.WebSocketResponse()  # answers the client's pings itself
        await ws.prepare(request)
        self._open.append(ws)
        try:
            await ws.send_json({"type": "hello", "num_connections": self.connected, "debug_info": DEBUG_INFO,
                                "connection_info": {"app_id": APP_ID}})
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._take_ack(message.data)
        finally:
            self._open.remove(ws)
        return ws

    def _take_ack(self, text: str) -> None:
        try:
            ack = json.loads(text)
        except ValueError:
            return
        if not isinstance(ack, dict) or "envelope_id" not in ack:
            return
        with self.lock:
            self.acks.append(ack)
        waiter = self._waiting.pop(str(ack["envelope_id"]), None)
        if waiter is not None and not waiter.done():
            waiter.set_result(ack)

    async def deliver(self, payload: dict[str, Any], timeout: float = ACK_SECONDS, **retry: Any) -> dict[str, Any]:
        """Send the payload in an envelope on the newest connection and return the app's ack (TimeoutError if none)."""
        sockets = [ws for ws in self._open if not ws.closed]
        if not sockets:
            raise ConnectionError("no app is connected over Socket Mode")
        message = envelope(payload, **retry)
        waiter = asyncio.get_running_loop().create_future()
        self._waiting[message["envelope_id"]] = waiter
        try:
            await sockets[-1].send_json(message)
            return await asyncio.wait_for(waiter, timeout)
        except TimeoutError as exc:
            raise TimeoutError(f"the app did not ack envelope {message['envelope_id']} within {timeout} s") from exc
        finally:
            self._waiting.pop(message["envelope_id"], None)

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask every connected app to reconnect, as Slack does before it recycles a connection."""
        for ws in [ws for ws in self._open if not ws.closed]:
            await ws.send_json({"type": "disconnect", "reason": reason, "debug_info": {"host": DEBUG_INFO["host"]}})

    def call(self, work: Callable[[], Awaitable[Any]], timeout: float) -> Any:
        """Run work() in the serving loop from another thread and return its result."""
        loop = self._loop
        if loop is None:
            raise RuntimeError(f"{self.name} is not serving")
        try:
            own = asyncio.get_running_loop() is loop
        except RuntimeError:  # no loop in this thread
            own = False
        if own:
            raise RuntimeError("called from the stand-in's own event loop: await the async variant instead")
        return asyncio.run_coroutine_threadsafe(work(), loop).result(timeout)


class SlackSockets:
    """Mixin for FakeSlackApi: Socket Mode beside the Web API, started and stopped with it."""

    sockets: SocketModeServer

    @property
    def socket_connected(self) -> bool:
        """Tell whether an app holds an open Socket Mode connection."""
        return self.sockets.connected > 0

    def socket_send(self, request: SlackRequest | dict[str, Any], timeout: float = ACK_SECONDS,
                    **retry: Any) -> dict[str, Any]:
        """Deliver a request's payload over the socket (from any thread but the stand-in's) and return the ack."""
        return self.sockets.call(lambda: self.sockets.deliver(_payload_of(request), timeout, **retry), timeout + 5)

    async def asocket_send(self, request: SlackRequest | dict[str, Any], timeout: float = ACK_SECONDS,
                           **retry: Any) -> dict[str, Any]:
        """Deliver over the socket from the event loop the stand-in serves in; otherwise like socket_send()."""
        return await self.sockets.deliver(_payload_of(request), timeout, **retry)

    def socket_disconnect(self, reason: str = "refresh_requested") -> None:
        """Send Slack's disconnect message to every connected app (the client then opens a new connection)."""
        self.sockets.call(lambda: self.sockets.disconnect(reason), 5)

    async def start(self) -> None:
        """Serve the Web API and the Socket Mode host in the running loop."""
        await super().start()  # type: ignore[misc]
        await self.sockets.start()

    async def stop(self) -> None:
        """Stop both servers and release their ports."""
        try:
            await self.sockets.stop()
        finally:
            await super().stop()  # type: ignore[misc]

    def close(self) -> None:
        """Release both ports without serving."""
        super().close()  # type: ignore[misc]
        self.sockets.close()


def _payload_of(request: SlackRequest | dict[str, Any]) -> dict[str, Any]:
    return request.payload if isinstance(request, SlackRequest) else request
