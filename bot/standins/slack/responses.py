"""What a POST to a response_url does: replace or delete the original, post in channel, or answer ephemerally."""

from __future__ import annotations

import json
from typing import Any

from bot.standins.slack.records import Ephemeral, SlackError, SlackMessage
from bot.standins.slack.state import ResponseUrl, SlackState

MAX_USES = 5  # Slack accepts five posts per response_url


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _blocks(body: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = body.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else list(blocks)


def apply_response(state: SlackState, url: ResponseUrl, body: dict[str, Any]) -> None:
    """Apply one response_url post to the workspace, as Slack would show it."""
    if not isinstance(body, dict):
        raise SlackError("invalid_payload", 400)
    with state.lock:
        if len(url.posts) >= MAX_USES:
            raise SlackError("used_url", 404)
        text, blocks = str(body.get("text") or ""), _blocks(body)
        original = state.messages.get(url.channel or "", {}).get(url.message_ts or "")
        if original is not None and _flag(body.get("delete_original")):
            state.forget(original.channel, original.ts)
        elif original is not None and _flag(body.get("replace_original")):
            state.edit(original.channel, original.ts, text, blocks)
        elif body.get("response_type") == "in_channel" and url.channel:
            thread_ts = body.get("thread_ts") or None
            state.store(SlackMessage(url.channel, state.next_ts(), text, blocks, thread_ts))
        elif url.user and not _flag(body.get("delete_original")):
            state.add_ephemeral(Ephemeral(url.channel, url.user, text, blocks, state.next_ts(), source="response_url"))
