"""FakeBotApi: a Starlette app on 127.0.0.1 that answers like api.telegram.org/bot<token>/<method>."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.standins.telegram.limits import RateLimits
from bot.standins.telegram.methods import METHODS
from bot.standins.telegram.state import AnsweredCallback, ApiError, BotState, RecordedCall, SentMessage
from bot.standins.telegram.users import SimulatedUsers
from bot.standins.telegram.wire import check_loopback, read_params


class FakeBotApi(SimulatedUsers):
    """Serve a local, recording, fault-injecting stand-in of the Telegram Bot API."""

    def __init__(self, token: str = "123:ABC", limits: RateLimits | None = None, *,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        """Prepare the app and bind a loopback socket (serving starts with start() or running())."""
        self.token = token
        self.host = check_loopback(host)
        self.state = BotState(limits=limits)
        self.app = Starlette(routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])])
        self.port = port
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task | None = None
        self._bind()

    def _bind(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # so asyncio sets TCP_NODELAY
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((self.host, self.port))
        self.port = self._socket.getsockname()[1]

    @property
    def base_url(self) -> str:
        """Return the value for PTB's Bot(base_url=...): http://127.0.0.1:PORT/bot ."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/bot"

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
        if self._task is not None:
            raise RuntimeError("FakeBotApi is already running")
        config = uvicorn.Config(self.app, log_config=None, log_level="warning", access_log=False,
                                lifespan="off", timeout_graceful_shutdown=2)
        self._server = uvicorn.Server(config)
        self.state.closing = False
        if self._socket is None:
            self._bind()
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))  # type: ignore[list-item]
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("FakeBotApi stopped while starting")
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        """Finish open long polls, stop serving and release the port."""
        if self._task is None or self._server is None:
            return
        self.state.closing = True
        self.state.wake()
        self._server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout=5)
        except asyncio.TimeoutError:
            self._server.force_exit = True
            await self._task
        finally:
            self._task = self._server = None
            self.close()

    def close(self) -> None:
        """Release the port without serving (a later start() binds it again)."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    @contextlib.contextmanager
    def running(self) -> Iterator[FakeBotApi]:
        """Serve from a background thread with its own event loop for the duration of the block."""
        ready, errors = threading.Event(), []
        holder: dict[str, Any] = {}

        async def serve() -> None:
            holder["loop"], holder["done"] = asyncio.get_running_loop(), asyncio.Event()
            try:
                await self.start()
            except BaseException as exc:  # handed to the calling thread
                errors.append(exc)
                ready.set()
                return
            ready.set()
            await holder["done"].wait()
            await self.stop()

        thread = threading.Thread(target=asyncio.run, args=(serve(),), name="FakeBotApi", daemon=True)
        thread.start()
        if not ready.wait(timeout=10) or errors:
            raise RuntimeError("FakeBotApi did not start") from (errors[0] if errors else None)
        try:
            yield self
        finally:
            holder["loop"].call_soon_threadsafe(holder["done"].set)
            thread.join(timeout=10)

    async def __aenter__(self) -> FakeBotApi:
        """Start serving in the running loop."""
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Stop serving."""
        await self.stop()

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
