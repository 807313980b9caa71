"""Telegram webhook on the project's ASGI app: the secret is checked first, 200 only once stored."""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Bot

from bot.adapters.telegram.app import process_update
from bot.adapters.telegram.inbound import MalformedUpdate
from bot.metrics import count_event
from bot.services.handle import Handled, Services

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_route(services: Services, bot: Bot, secret: str, after: Callable[[Handled], None] = lambda _handled: None) -> Route:
    """Return the route that receives Telegram's updates."""
    expected = secret.encode("utf-8")

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8")
        if not expected or not hmac.compare_digest(given, expected):
            count_event("telegram", "refused")
            return Response(status_code=401)
        try:
            await process_update(services, bot, _json(await request.body()), after)
        except MalformedUpdate:  # not an update, even from Telegram
            count_event("telegram", "malformed")
            return Response(status_code=400)
        return Response(status_code=200)

    return Route(WEBHOOK_PATH, receive, methods=["POST"])


def _json(body: bytes) -> object:
    try:
        return json.loads(body)
    except ValueError as exc:
        raise MalformedUpdate("not JSON") from exc
