"""Serve the real bolt app on loopback against the Slack Web API stand-in (for integration tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette

from bot.adapters.slack.app import build_slack_app
from bot.adapters.slack.http import EVENTS_PATH, slack_route
from bot.standins.slack import FakeSlackApi, LoopbackServer


@contextmanager
def served_app(services, users) -> Iterator[FakeSlackApi]:
    """Yield a running stand-in with these (user id, name) pairs whose events reach the served app."""
    api = FakeSlackApi()
    for user, name in users:
        api.add_user(user, name)
    with api.running():
        client = AsyncWebClient(token=api.token, base_url=api.base_url)
        bolt = build_slack_app(services, api.signing_secret, client, lambda reply: None)
        with LoopbackServer(Starlette(routes=[slack_route(bolt, api.signing_secret)])).running() as web:
            api.events_url = f"{web.origin}{EVENTS_PATH}"
            yield api
