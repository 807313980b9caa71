"""FakeBotApi: a Starlette app on 127.0.0.1 that answers like api.telegram.org/bot<token>/<method>."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.standins.server import LoopbackServer
from bot.standins.telegram.limits import RateLimits
from bot.standins.telegram.methods import METHODS
from bot.standins.telegram.state import AnsweredCallback, ApiError, BotState, RecordedCall, SentMessage
from bot.standins.telegram.users import SimulatedUsers
from bot.standins.telegram.wire import read_params


class FakeBotApi(SimulatedUsers, LoopbackServer):
    """Serve a local, recording, fault-injecting stand-in of the Telegram Bot API."""

    def __init__(self, token: str = "123:ABC", limits: RateLimits | None = None, *,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        """Prepare the app and bind a loopback socket (serving starts with start() or running())."""
        self.token = token
        self.state = BotState(limits=limits)
        app = Starlette(routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])])
        LoopbackServer.__init__(self, app, host=host, port=port, name="FakeBotApi")

    @property
    def base_url(self) -> str:
        """Return the value for PTB's Bot(base_url=...): http://127.0.0.1:PORT/bot ."""
        return f"{self.origin}/bot"

    # -- HTTP -------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return JSONResponse(ApiError(401).body(), status_code=401)
        method = request.path_params["method"]
        try:
            params = await read_params(request)
        except ApiError as error:
            return JSONResponse(error.body(), status_code=error.status)
        call = self.state.record(method, params)
        try:
            try:
                result = await self._dispatch(method, params)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                raise ApiError(400, "Bad Request: wrong parameter value") from exc
        except ApiError as error:
            call.status = error.status
            return JSONResponse(error.body(), status_code=error.status)
        call.status = 200
        return JSONResponse({"ok": True, "result": result})

    async def _dispatch(self, method: str, params: dict[str, Any]) -> Any:
        name = method.lower()
        if name not in METHODS and name != "getupdates":
            raise ApiError(404)
        delay, error = self.state.take_fault(method)
        if delay:
            await asyncio.sleep(delay)
        if error:
            raise error
        self.state.admit(method, params.get("chat_id"))
        if name == "getupdates":
            return await self._get_updates(params)
        return METHODS[name](self.state, params)

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Return pending updates, waiting up to `timeout` seconds for one to arrive."""
        if self.state.webhook.get("url"):
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        offset = int(params["offset"]) if params.get("offset") is not None else None
        limit = min(100, max(1, int(params.get("limit") or 100)))
        if isinstance(params.get("allowed_updates"), list):
            self.state.allowed_updates = params["allowed_updates"] or None
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        event = asyncio.Event()
        self.state.add_waiter(event)
        try:
            while True:
                event.clear()
                updates = self.state.take_updates(offset, limit)
                remaining = deadline - time.monotonic()
                if updates or remaining <= 0 or self.state.closing:
                    return updates
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
        finally:
            self.state.remove_waiter(event)

    # -- lifecycle ----------------------------------------------------------------

    async def start(self) -> None:
        """Serve in the running event loop; return once connections are accepted."""
        self.state.closing = False
        await LoopbackServer.start(self)

    async def stop(self) -> None:
        """Finish open long polls, stop serving and release the port."""
        self.state.closing = True
        self.state.wake()
        await LoopbackServer.stop(self)

    # -- recording ------------------------------------------------------------------

    @property
    def calls(self) -> list[RecordedCall]:
        """Return every request received so far, in arrival order."""
        with self.state.lock:
            return list(self.state.calls)

    def calls_of(self, method: str) -> list[RecordedCall]:
        """Return the recorded calls of one method (case-insensitive)."""
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def watch(self) -> queue.Queue:
        """Return a queue that receives a copy of every message the bot sends from now on."""
        watcher: queue.Queue = queue.Queue()
        with self.state.lock:
            self.state.watchers.append(watcher)
        return watcher

    def sent(self, chat_id: int | str) -> list[SentMessage]:
        """Return the chat's bot messages as the user now sees them, oldest first."""
        return self.state.sent(chat_id)

    @property
    def answered_callbacks(self) -> list[AnsweredCallback]:
        """Return every answerCallbackQuery call."""
        with self.state.lock:
            return list(self.state.answered_callbacks)

    @property
    def too_many_requests(self) -> int:
        """Return how many 429 answers were sent."""
        return self.state.too_many_requests

    @property
    def webhook_url(self) -> str:
        """Return the URL set with setWebhook, or ''."""
        return self.state.webhook.get("url", "")

    def pending_updates(self) -> int:
        """Return how many queued updates the bot has not confirmed."""
        return self.state.pending_count()

    def add_chat(self, chat_id: int, chat_type: str = "group", title: str | None = None) -> dict[str, Any]:
        """Register a chat's type (group, supergroup, channel or private) and return its Chat object."""
        return self.state.add_chat(chat_id, chat_type, title)

    # -- faults -----------------------------------------------------------------------

    def block(self, chat_id: int | str) -> None:
        """Make calls for this chat answer 403 'bot was blocked by the user'."""
        self.state.block(chat_id)

    def unblock(self, chat_id: int | str) -> None:
        """Undo block()."""
        self.state.block(chat_id, blocked=False)

    def fail_next(self, method: str, status: int = 500, times: int = 1, retry_after: int | None = None,
                  description: str | None = None) -> None:
        """Make the next `times` calls of method fail with status (429 carries retry_after, default 1)."""
        self.state.add_fault(method, status, times, retry_after, description, 0.0)

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Make the next `times` calls of method answer only after `seconds` (to provoke client timeouts)."""
        self.state.add_fault(method, 0, times, None, None, seconds)
