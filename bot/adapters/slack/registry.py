"""/registry P-XXXX: post a patient's trend chart to the clinician by direct message; /registry start P-XXXX."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.commands import command_key, tell
from bot.adapters.slack.inbound import typed
from bot.adapters.trend_chart import trend_png
from bot.services.care_start import START_WORD, care_start_note
from bot.services.handle import Services
from bot.services.patient_trend import patient_trend
from bot.services.registry import first_delivery

log = logging.getLogger(__name__)
LABELS = ("phq9", "gad7", "remission", "response", "care_started", "score")


def register_registry(app: AsyncApp, services: Services) -> None:
    """Add /registry to the bolt app."""

    @app.command("/registry")
    async def on_registry(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, respond: AsyncRespond) -> None:
        await ack()
        user = body.get("user_id") or ""
        text = typed(body.get("text") or "")
        try:
            if not await asyncio.to_thread(first_delivery, services, command_key(body)):
                return  # Slack sent this command again: the chart or note went out the first time
            word, _, rest = text.strip().partition(" ")
            if word.lower() == START_WORD:
                await tell(respond, await asyncio.to_thread(care_start_note, services, user, rest))
                return
            found = await asyncio.to_thread(patient_trend, services, user, text)
            if found.entry is None:
                await tell(respond, found.note)
                return
            care = services.flow.config.care
            labels = {part: services.presenter.team("team/chart", part=part) for part in LABELS}
            png = await asyncio.to_thread(trend_png, found.entry, found.title, labels, care.remission_below,
                                          care.response_drop)
            opened = await client.conversations_open(users=user)
            await client.files_upload_v2(channel=opened["channel"]["id"], file=png, filename="trend.png",
                                         title=found.title, initial_comment=found.note)
        except SlackApiError as exc:
            log.warning("slack registry chart not posted", extra={"error": exc.response.get("error")})
        except Exception as exc:  # acked already: log the class only, never codes or scores
            log.error("slack registry failed", extra={"error": type(exc).__name__})
