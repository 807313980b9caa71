"""FakeSlackApi: a Starlette app on 127.0.0.1 that answers like https://slack.com/api/<method>."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.standins.slack.limits import RateLimits
from bot.standins.slack.methods import MESSAGE_METHODS
from bot.standins.slack.queries import SlackQueries
from bot.standins.slack.records import ResponsePost, SlackError
from bot.standins.slack.responses import apply_response
from bot.standins.slack.socket import APP_TOKEN_METHODS, SlackSockets, SocketModeServer
from bot.standins.server import LoopbackServer
from bot.standins.slack.state import SlackState
from bot.standins.slack.surfaces import SURFACE_METHODS
from bot.standins.slack.users import SlackUsers
from bot.standins.slack.wire import bearer_token, read_params, read_upload

METHODS = {**MESSAGE_METHODS, **SURFACE_METHODS}


class FakeSlackApi(SlackUsers, SlackQueries, SlackSockets, LoopbackServer):
    """Serve a local, recording, fault-injecting stand-in of the Slack Web API, and play Slack's users."""

    def __init__(self, token: str = "xoxb-carebridge-test", signing_secret: str = "carebridge-signing-secret",
                 limits: RateLimits | None = None, *, events_url: str | None = None, host: str = "127.0.0.1",
                 port: int = 0, app_token: str = "xapp-1-A0CAREBRDG-1-carebridge-test") -> None:
        """Prepare the app and bind loopback sockets (serving starts with start() or running())."""
        self.token, self.signing_secret, self.events_url = token, signing_secret, events_url
        self.app_token = app_token
        self.state = SlackState(limits)
        app = Starlette(routes=[Route("/api/{method}", self._api, methods=["GET", "POST"]),
                                Route("/upload/{file_id}", self._upload, methods=["POST"]),
                                Route("/response/{url_id}", self._respond, methods=["POST"])])
        LoopbackServer.__init__(self, app, host=host, port=port, name="FakeSlackApi")
        self.state.origin = self.origin
        self.sockets = SocketModeServer(host=self.host)

    @property
    def base_url(self) -> str:
        """Return the value for slack_sdk's WebClient(base_url=...): http://127.0.0.1:PORT/api/ ."""
        return f"{self.origin}/api/"

    # -- HTTP ---------------------------------------------------------------------

    async def _api(self, request: Request) -> Response:
        method = request.path_params["method"]
        params: dict[str, Any] = {}
        unreadable: SlackError | None = None
        try:
            params = await read_params(request)
        except SlackError as error:
            unreadable = error
        token = bearer_token(request, params)
        call = self.state.record(method, params)
        try:
            if unreadable:
                raise unreadable
            result = await self._dispatch(method, params, token)
        except SlackError as error:
            call.status, call.error = error.status, error.error
            return error.response()
        call.status = 200
        return JSONResponse({"ok": True, **result})

    async def _dispatch(self, method: str, params: dict[str, Any], token: str | None) -> dict[str, Any]:
        self.state.faults.check_up()
        handler, app_level = METHODS.get(method), method in APP_TOKEN_METHODS
        if handler is None and not app_level:
            raise SlackError("unknown_method")
        if not token:
            raise SlackError("not_authed")
        if token.startswith("xapp-") != app_level:
            raise SlackError("not_allowed_token_type")
        if token != (self.app_token if app_level else self.token):
            raise SlackError("invalid_auth")
        await self._fault(method)
        self.state.faults.admit(method, self._channel_key(params))
        if app_level:  # apps.connections.open, the only such method
            return self.sockets.open_url(token)
        try:
            return handler(self.state, params)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise SlackError("invalid_arguments") from exc

    async def _fault(self, method: str) -> None:
        delay, error = self.state.faults.take_fault(method)
        if delay:
            await asyncio.sleep(delay)
        if error:
            raise error

    def _channel_key(self, params: dict[str, Any]) -> str | None:
        channel = params.get("channel") or params.get("channel_id")
        if not channel:
            return None
        try:
            return self.state.resolve(channel)
        except SlackError:
            return str(channel)

    async def _upload(self, request: Request) -> Response:
        """Take a file's bytes at the URL files.getUploadURLExternal handed out (fault name: 'upload')."""
        try:
            self.state.faults.check_up()
            await self._fault("upload")
        except SlackError as error:
            return PlainTextResponse(error.error, status_code=error.status)
        data = await read_upload(request)
        with self.state.lock:
            upload = self.state.files.get(request.path_params["file_id"])
            if upload is None or upload.completed:
                return PlainTextResponse("not_found", status_code=404)
            upload.data = data
        return PlainTextResponse(f"OK - {len(data)}")

    async def _respond(self, request: Request) -> Response:
        """Record and apply a post to a response_url (fault name: 'response_url')."""
        url = self.state.response_urls.get(request.path_params["url_id"])
        status, body = 200, {}
        try:
            self.state.faults.check_up()
            await self._fault("response_url")
            if url is None:
                raise SlackError("expired_url", 404)
            try:
                body = json.loads(await request.body() or b"{}")
            except ValueError as exc:
                raise SlackError("invalid_payload", 400) from exc
            apply_response(self.state, url, body)
        except SlackError as error:
            status = error.status
            answer: Response = PlainTextResponse(error.error, status_code=error.status)
        else:
            answer = PlainTextResponse("ok")
        if url is not None:
            with self.state.lock:
                url.posts.append(ResponsePost(url.id, body if isinstance(body, dict) else {}, status, time.time()))
        return answer

    # -- the workspace ----------------------------------------------------------------

    def add_channel(self, channel_id: str, name: str, **extra: Any) -> dict[str, Any]:
        """Register a channel (id like C0123, name without #) and return its conversation object."""
        return self.state.add_channel(channel_id, name, **extra)

    def add_user(self, user_id: str, name: str, *, real_name: str | None = None, tz: str = "America/New_York",
                 is_bot: bool = False) -> dict[str, Any]:
        """Register a workspace member for users.info, DMs and payloads, and return its user object."""
        return self.state.add_user(user_id, name, real_name, tz, is_bot)

    @property
    def trigger_ttl(self) -> float | None:
        """Return how long a trigger_id stays usable (Slack: 3 s; None: forever)."""
        return self.state.trigger_ttl

    @trigger_ttl.setter
    def trigger_ttl(self, seconds: float | None) -> None:
        self.state.trigger_ttl = seconds

    # -- faults ---------------------------------------------------------------------------

    def fail_next(self, method: str, status: int | None = None, times: int = 1, retry_after: int | None = None,
                  error: str | None = None) -> None:
        """Make the next `times` calls fail with status (default 500; 200 with `error` alone; 429 is ratelimited)."""
        status = status if status is not None else (200 if error else 500)
        self.state.faults.add_fault(method, status, times, retry_after, error, 0.0)

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Make the next `times` calls of method answer only after `seconds` (to provoke client timeouts)."""
        self.state.faults.add_fault(method, 0, times, None, None, seconds)

    def down(self, seconds: float | None = None) -> None:
        """Answer every request with 503 for `seconds`, or until up() when None."""
        self.state.faults.set_down(seconds)

    def up(self) -> None:
        """End an outage started with down()."""
        self.state.faults.set_up()
