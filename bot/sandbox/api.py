"""The page's HTTP side: the static page, one state document, and actions that become stand-in user actions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.sandbox import actions
from bot.sandbox.actions import ActionRefused
from bot.sandbox.page_state import DMS, state_json

if TYPE_CHECKING:
    from bot.sandbox.host import Sandbox

STATIC = Path(__file__).resolve().parent / "static"
MAX_ADVANCE = timedelta(days=60)
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


class BadRequest(Exception):
    """The page sent something malformed."""


async def _body(request: Request) -> dict[str, Any]:
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise BadRequest("send JSON")  # also keeps other sites' plain form posts out
    try:
        body = await request.json()
    except ValueError as exc:
        raise BadRequest("send a JSON object") from exc
    if not isinstance(body, dict):
        raise BadRequest("send a JSON object")
    return body


def _text(body: dict[str, Any], name: str, optional: bool = False) -> str | None:
    value = body.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{name} is missing")
    return value


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise BadRequest(f"{name} must be a number") from exc


def page_app(sandbox: Sandbox) -> Starlette:
    """Return the page's Starlette app, bound to one sandbox."""

    def guarded(work):
        async def endpoint(request: Request) -> Response:
            host = request.headers.get("host", "").rsplit(":", 1)[0]
            if host not in LOOPBACK_NAMES:  # a page on another site rebinding its name to 127.0.0.1
                return JSONResponse({"error": "the sandbox answers loopback addresses only"}, status_code=403)
            try:
                return await work(request)
            except BadRequest as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)
            except ActionRefused as exc:
                return JSONResponse({"error": str(exc)}, status_code=409)
        return endpoint

    def acting(work):
        async def endpoint(request: Request) -> Response:
            body = await _body(request)
            async with sandbox.lock:
                if sandbox.day is None:
                    return JSONResponse({"error": sandbox.failure or "no clinic day running"}, status_code=503)
                result = await work(sandbox.day, body, request)
            return JSONResponse({"ok": True, **(result or {})})
        return guarded(endpoint)

    async def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def state(request: Request) -> Response:
        day, query = sandbox.day, request.query_params
        if day is None:
            return JSONResponse({"day": sandbox.days, "error": sandbox.failure or "starting…"}, status_code=503)
        chat = _int(query["chat"], "chat") if query.get("chat") else None
        body = state_json(day, chat, query.get("user") or None, query.get("where") or "", sandbox.modal_errors)
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    async def new_patient(day, body, _request):
        phone = await actions.new_patient(day, _text(body, "clinic"), body.get("how") or "link")
        return {"chat_id": phone.chat_id}

    async def patient_message(day, body, request):
        actions.patient_types(day, _int(request.path_params["chat"], "chat"), _text(body, "text"))

    async def patient_press(day, body, request):
        actions.patient_presses(day, _int(request.path_params["chat"], "chat"), _int(body.get("message_id"),
                                "message_id"), _text(body, "data"))

    async def slack_press(day, body, _request):
        await actions.clinician_presses(day, _text(body, "user"), _text(body, "channel"), _text(body, "ts"),
                                        _text(body, "action_id"), _text(body, "value", True),
                                        _text(body, "block_id", True))

    async def slack_command(day, body, _request):
        where = _text(body, "channel", True)
        channel = None if where in (None, DMS) else where
        await actions.clinician_command(day, _text(body, "user"), _text(body, "line"), channel)

    async def slack_home(day, body, _request):
        await actions.open_home(day, _text(body, "user"))

    async def modal_submit(day, body, request):
        user, view_id = _text(body, "user"), request.path_params["view"]
        answers = body.get("values") if isinstance(body.get("values"), dict) else {}
        errors = await actions.submit_modal(day, user, view_id, answers)
        sandbox.modal_errors[(user, view_id)] = errors
        return {"errors": errors}

    async def modal_close(day, body, request):
        actions.close_modal(day, _text(body, "user"), request.path_params["view"])

    async def advance(day, body, _request):
        delta = timedelta(minutes=_int(body.get("minutes"), "minutes"))
        if not timedelta(0) < delta <= MAX_ADVANCE:
            raise BadRequest("move the clock forward by up to 60 days")
        day.clock.advance(delta)

    async def reset(request: Request) -> Response:
        await _body(request)
        await sandbox.reset()
        if sandbox.day is None:
            return JSONResponse({"error": sandbox.failure}, status_code=503)
        return JSONResponse({"ok": True, "day": sandbox.day.number})

    async def slack_file(request: Request) -> Response:
        day = sandbox.day
        upload = next((f for f in day.slack.files if f.id == request.path_params["file"]), None) if day else None
        if upload is None or upload.data is None:
            return JSONResponse({"error": "no such file"}, status_code=404)
        media = "image/png" if upload.filename.lower().endswith(".png") else "application/octet-stream"
        return Response(upload.data, media_type=media, headers={"Cache-Control": "no-store"})

    routes = [
        Route("/", guarded(index)),
        Route("/api/state", guarded(state)),
        Route("/api/patients", acting(new_patient), methods=["POST"]),
        Route("/api/patients/{chat}/messages", acting(patient_message), methods=["POST"]),
        Route("/api/patients/{chat}/presses", acting(patient_press), methods=["POST"]),
        Route("/api/slack/presses", acting(slack_press), methods=["POST"]),
        Route("/api/slack/commands", acting(slack_command), methods=["POST"]),
        Route("/api/slack/home", acting(slack_home), methods=["POST"]),
        Route("/api/slack/modals/{view}/submit", acting(modal_submit), methods=["POST"]),
        Route("/api/slack/modals/{view}/close", acting(modal_close), methods=["POST"]),
        Route("/api/slack/files/{file}", guarded(slack_file)),
        Route("/api/clock", acting(advance), methods=["POST"]),
        Route("/api/reset", guarded(reset), methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(routes=routes)
