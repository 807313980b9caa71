"""Slack's request URL on the project's ASGI app: bolt checks the signature and timestamp, then dispatches."""

from __future__ import annotations

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

EVENTS_PATH = "/slack/events"


def slack_route(app: AsyncApp) -> Route:
    """Return the POST route that hands Slack's requests to the bolt app."""
    handler = AsyncSlackRequestHandler(app)

    async def receive(request: Request) -> Response:
        return await handler.handle(request)

    return Route(EVENTS_PATH, receive, methods=["POST"])
