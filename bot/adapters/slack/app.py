"""The slack-bolt app: every handoff button is acked at once, converted, applied, and answered ephemerally."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.blocks import ACTION_PREFIX
from bot.adapters.slack.closing import open_close_modal, register_closing
from bot.adapters.slack.commands import register_commands, tell
from bot.adapters.slack.consult import register_consult
from bot.adapters.slack.home import register_home
from bot.adapters.slack.registry import register_registry
from bot.adapters.slack.inbound import clinician_action
from bot.metrics import count_event
from bot.services.handle import Services
from bot.services.handoffs import ClinicianReply, act_on_handoff

log = logging.getLogger(__name__)
HANDOFF_ACTIONS = re.compile(f"^{re.escape(ACTION_PREFIX)}")


def build_slack_app(services: Services, signing_secret: str, client: AsyncWebClient,
                    after: Callable[[ClinicianReply], None], link_for: Callable[[str], str] | None = None) -> AsyncApp:
    """Build the bolt app; bolt refuses unsigned and stale requests before any listener runs."""
    # The bot token is handed to bolt through authorize= so that bolt never calls auth.test before a listener
    # runs: with a static token it would, and a failing auth.test (Slack's API down) would drop a clinician's press.
    tokenless = AsyncWebClient(base_url=client.base_url, timeout=client.timeout, retry_handlers=client.retry_handlers)
    app = AsyncApp(signing_secret=signing_secret, client=tokenless, authorize=static_token(client.token),
                   process_before_response=False, name="carebridge")

    @app.action(HANDOFF_ACTIONS)
    async def on_handoff_button(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond | None) -> None:
        await ack()  # first: Slack wants the answer within 3 s; the work below runs after the HTTP 200
        event = clinician_action(body)
        if event is not None and event.action == "closed":
            await open_close_modal(client, services, body, event.handoff_ref)
            return
        await press_handoff_button(services, body, respond, after)

    register_commands(app, services, after)
    register_closing(app, services, after)
    register_home(app, services)
    register_registry(app, services)
    register_consult(app, services, after, link_for or (lambda token: telegram_start(services, None, token)))
    return app


def static_token(token: str | None) -> Callable:
    """Return a bolt authorize function that hands every request the one workspace's bot token."""

    async def authorize(enterprise_id: str | None, team_id: str | None, user_id: str | None) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id, bot_token=token)

    return authorize


def telegram_start(services: Services, username: str | None, token: str) -> str:
    """Return how a new patient joins with an enrollment token: the bot's link, or the /start message."""
    return services.presenter.team("team/consult_link", username=username, token=token)


async def press_handoff_button(services: Services, body: dict[str, Any], respond: AsyncRespond | None,
                               after: Callable[[ClinicianReply], None]) -> ClinicianReply | None:
    """Apply one press (a redelivery carries the same key, so the service applies it once) and answer the presser."""
    event = clinician_action(body)
    if event is None:
        log.info("slack action ignored: not a handoff press")
        return None
    try:
        reply = await asyncio.to_thread(act_on_handoff, services, event)
    except Exception as exc:  # acked already: nothing to tell Slack; log the key and class, never the message
        log.error("slack handoff action failed", extra={"event_key": event.key, "error": type(exc).__name__})
        count_event("slack", "failed")
        return None
    count_event("slack", reply.status)
    after(reply)
    await tell(respond, reply.note)
    return reply
