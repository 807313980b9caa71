"""The App Home tab: when a clinician opens it, publish who is on duty, the open pages and their handoffs."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.blocks import SECTION_LIMIT
from bot.services.handle import Services
from bot.services.home import home_view

log = logging.getLogger(__name__)
MAX_BLOCKS = 100  # Slack refuses a Home view with more blocks
HEADER_LIMIT = 150  # characters of a header block's plain text
ELLIPSIS = "…"


def register_home(app: AsyncApp, services: Services) -> None:
    """Add the app_home_opened listener to the bolt app."""

    @app.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        await publish_home(services, client, event)


async def publish_home(services: Services, client: AsyncWebClient, event: dict[str, Any]) -> bool:
    """Publish the Home view of the user who opened the Home tab; False if nothing was published."""
    user = event.get("user")
    if event.get("tab") != "home" or not user:
        return False
    try:
        view = await asyncio.to_thread(home_view, services, user)
        await client.views_publish(user_id=user, view={"type": "home", "blocks": home_blocks(view)})
    except Exception as exc:  # the event is acked already: log the class only, never the text
        log.error("slack home not published", extra={"error": type(exc).__name__})
        return False
    return True


def home_blocks(view: dict[str, Any]) -> list[dict[str, Any]]:
    """Lay out the sections as header and section blocks within Slack's limits, ending politely if cut."""
    blocks: list[dict[str, Any]] = []
    for number, section in enumerate(view["sections"]):
        if number:
            blocks.append({"type": "divider"})
        blocks.append(_header(section["heading"]))
        blocks += [_section(text) for text in pack(section["items"])]
    footer = view.get("footer")
    tail = [{"type": "context", "elements": [{"type": "mrkdwn", "text": footer[:SECTION_LIMIT]}]}] if footer else []
    if len(blocks) + len(tail) > MAX_BLOCKS:
        blocks = blocks[: MAX_BLOCKS - len(tail) - 1] + [_section(view["overflow"])]
    return blocks + tail


def pack(items: list[str], limit: int = SECTION_LIMIT) -> list[str]:
    """Join items, a blank line apart, into as few texts as fit the limit (an overlong item is cut short)."""
    texts: list[str] = []
    for item in items:
        item = item if len(item) <= limit else item[: limit - len(ELLIPSIS)] + ELLIPSIS
        if texts and len(texts[-1]) + 2 + len(item) <= limit:
            texts[-1] = f"{texts[-1]}\n\n{item}"
        else:
            texts.append(item)
    return [text for text in texts if text]


def _header(text: str) -> dict[str, Any]:
    text = text if len(text) <= HEADER_LIMIT else text[: HEADER_LIMIT - len(ELLIPSIS)] + ELLIPSIS
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_LIMIT]}}
