"""Translate a Slack block_actions body into a domain event (nothing else: no decisions, no words)."""

from __future__ import annotations

from typing import Any

from bot.adapters.slack.blocks import ACTION_PREFIX
from bot.domain.events import ClinicianAction

PLATFORM = "slack"


def action_key(message_ts: str, action_ts: str, user_id: str) -> str:
    """Return the idempotency key of one press (the same for every redelivery of it)."""
    return f"{PLATFORM}:action:{message_ts}:{action_ts}:{user_id}"


def typed(text: str) -> str:
    """Return text a person sent without control characters (PostgreSQL refuses NUL), keeping line breaks and tabs."""
    return "".join(c for c in text if c >= " " or c in "\n\t")


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return typed(value) or None


def clinician_action(body: dict[str, Any]) -> ClinicianAction | None:
    """Return the ClinicianAction a handoff button press carries, or None when the body is not one."""
    try:
        pressed = body["actions"][0]
        user_id = _text(body["user"]["id"])
        container = body.get("container") or {}
        message_ts = _text(container.get("message_ts")) or _text((body.get("message") or {}).get("ts"))
        action_ts, action_id, value = _text(pressed["action_ts"]), _text(pressed["action_id"]), _text(pressed["value"])
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    if not (user_id and message_ts and action_ts and action_id and value) or not action_id.startswith(ACTION_PREFIX):
        return None
    action = action_id.removeprefix(ACTION_PREFIX)
    if not action:
        return None
    return ClinicianAction(key=action_key(message_ts, action_ts, user_id), user_id=user_id, handoff_ref=value,
                           action=action)
