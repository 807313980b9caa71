"""/consult: open the modal for the PCP group, and turn its submission into a consult (field errors back)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.commands import tell
from bot.adapters.slack.consult_form import CALLBACK_ID, consult_form, consult_view
from bot.metrics import count_event
from bot.services.consult import consult_clinics, request_consult
from bot.services.handle import Services

log = logging.getLogger(__name__)


def register_consult(app: AsyncApp, services: Services, after: Callable, link_for: Callable[[str], str]) -> None:
    """Add /consult and its modal's submission to the bolt app."""

    @app.command("/consult")
    async def on_consult(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        clinics = consult_clinics(services, body.get("user_id") or "")
        if not clinics:
            await tell(respond, services.presenter.team("team/consult_not_pcp"))
            return
        view = consult_view([(c.slug, c.name) for c in clinics], services.presenter.team)
        try:
            await client.views_open(trigger_id=body.get("trigger_id"), view=view)
        except SlackApiError as exc:  # e.g. an expired trigger: the PCP can type /consult again
            log.warning("slack consult modal not opened", extra={"error": exc.response.get("error")})

    @app.view(CALLBACK_ID)
    async def on_submit(ack: AsyncAck, body: dict[str, Any]) -> None:
        view, user = body.get("view") or {}, (body.get("user") or {}).get("id") or ""
        key = f"slack:consult:{view.get('id') or ''}"
        try:
            reply = await asyncio.to_thread(request_consult, services, user, consult_form(view), key, link_for)
        except Exception as exc:  # tell Slack nothing went through rather than closing the modal silently
            log.error("slack consult failed", extra={"error": type(exc).__name__})
            count_event("slack", "failed")
            await ack(response_action="errors", errors={"reason": services.presenter.team("team/consult_failed")})
            return
        count_event("slack", reply.status)
        if reply.status == "invalid":
            await ack(response_action="errors", errors=reply.errors)
            return
        if reply.status == "refused":
            await ack(response_action="errors", errors={"reason": reply.note})
            return
        await ack()
        after(reply)
