"""Wire Slack when it is configured: the delivery of pages, and the /slack/events route or the Socket Mode link."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.http_retry.builtin_async_handlers import AsyncConnectionErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from starlette.routing import Route

from bot.adapters.slack.app import build_slack_app, telegram_start
from bot.adapters.slack.http import slack_route
from bot.adapters.slack.outbound import SlackSender
from bot.adapters.slack.socket import SlackSocket
from bot.config import Settings
from bot.services.handle import Services
from bot.worker.delivery import DeliveryWorker
from bot.worker.pace import RateLimits
from bot.worker.sharing import sharing

# Slack allows about one message a second per channel; the workspace-wide pace is far above a clinic's pages.
SLACK_LIMITS = RateLimits(global_per_second=20, global_burst=10, per_chat_per_second=1, per_chat_burst=3)


@dataclass(frozen=True)
class SlackParts:
    """The Slack delivery worker, and what receives Slack's requests: the route, or the socket in Socket Mode."""

    delivery: DeliveryWorker
    route: Route | None
    socket: SlackSocket | None = None


def slack_parts(settings: Settings, services: Services, after: Callable, holder: str | None = None) -> SlackParts | None:
    """Return the Slack parts, or None when SLACK_BOT_TOKEN is not set (pages then wait in the outbox)."""
    if not settings.slack_bot_token:
        return None  # run's check_settings refuses a token without its signing secret or app token
    client = AsyncWebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=10,
                            retry_handlers=[AsyncConnectionErrorRetryHandler()])
    outbox, limits = services.store.outbox, SLACK_LIMITS
    delivery = DeliveryWorker(outbox, "slack", SlackSender(client), services.clock, limits,
                              sharing=sharing(outbox, "slack", limits.global_per_second, limits.global_burst, holder))
    username = settings.telegram_bot_username
    app = build_slack_app(services, settings.slack_signing_secret or "", client, after,
                          link_for=lambda token: telegram_start(services, username, token))
    if settings.slack_app_token:  # Socket Mode: bolt skips signature checks for envelopes from the websocket
        return SlackParts(delivery, None, SlackSocket(app, settings.slack_app_token))
    return SlackParts(delivery, slack_route(app, settings.slack_signing_secret or ""))
