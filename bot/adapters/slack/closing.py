"""Close a handoff with its outcome: the Close button opens a modal; its submission closes the handoff."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.domain.events import ClinicianAction
from bot.metrics import count_event
from bot.services.handle import Services
from bot.services.handoffs import OUTCOMES, act_on_handoff

log = logging.getLogger(__name__)
CALLBACK_ID = "handoff_close"
BLOCK, VALUE = "outcome", "value"


def close_view(handoff_ref: str, render) -> dict[str, Any]:
    """Return the modal that asks how the handoff ended; the handoff's ref rides in private_metadata."""
    word = lambda key: {"type": "plain_text", "text": render("team/outcome", outcome=key)}  # noqa: E731
    options = [{"text": word(outcome), "value": outcome} for outcome in OUTCOMES]
    return {"type": "modal", "callback_id": CALLBACK_ID, "private_metadata": handoff_ref, "title": word("title"),
            "submit": word("submit"), "close": word("cancel"),
            "blocks": [{"type": "input", "block_id": BLOCK, "label": word("label"),
                        "element": {"type": "radio_buttons", "action_id": VALUE, "options": options}}]}


async def open_close_modal(client: AsyncWebClient, services: Services, body: dict[str, Any], handoff_ref: str) -> None:
    """Open the outcome modal for the clinician who pressed Close."""
    try:
        await client.views_open(trigger_id=body.get("trigger_id"), view=close_view(handoff_ref, services.presenter.team))
    except SlackApiError as exc:
        log.warning("slack close modal not opened", extra={"error": exc.response.get("error")})


def register_closing(app: AsyncApp, services: Services, after: Callable) -> None:
    """Add the outcome modal's submission to the bolt app."""

    @app.view(CALLBACK_ID)
    async def on_close(ack: AsyncAck, body: dict[str, Any]) -> None:
        view, user = body.get("view") or {}, (body.get("user") or {}).get("id") or ""
        chosen = (((view.get("state") or {}).get("values") or {}).get(BLOCK) or {}).get(VALUE) or {}
        outcome = (chosen.get("selected_option") or {}).get("value")
        if outcome not in OUTCOMES:  # before the service: a refused close would spend this form's key
            await ack(response_action="errors", errors={BLOCK: services.presenter.team("team/outcome_needed")})
            return
        action = ClinicianAction(f"slack:close:{view.get('id') or ''}", user, view.get("private_metadata") or "",
                                 "closed", outcome)
        try:
            reply = await asyncio.to_thread(act_on_handoff, services, action)
        except Exception as exc:
            log.error("slack close failed", extra={"error": type(exc).__name__})
            count_event("slack", "failed")
            await ack(response_action="errors", errors={BLOCK: services.presenter.team("team/consult_failed")})
            return
        count_event("slack", reply.status)
        if reply.status in ("refused", "taken") and reply.note:
            await ack(response_action="errors", errors={BLOCK: reply.note})
            return
        await ack()
        after(reply)
