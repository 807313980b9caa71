"""Lay out a page's already-rendered lines and buttons as Block Kit blocks."""

from __future__ import annotations

from typing import Any

ACTION_PREFIX = "handoff:"  # action_id of every handoff button: handoff:<action>
ACTIONS_BLOCK = "handoff"
SECTION_LIMIT = 3000  # Slack refuses a section whose text is longer
BROADCASTS = ("channel", "here", "everyone")


def mention_markup(mention: str | None) -> str | None:
    """Return the mrkdwn that notifies a user id or a broadcast (channel, here, everyone)."""
    if not mention:
        return None
    if mention in BROADCASTS:
        return f"<!{mention}>"
    if mention.startswith("S"):
        return f"<!subteam^{mention}>"
    return f"<@{mention}>"


def sections(lines: list[str], mention: str | None = None) -> list[dict[str, Any]]:
    """Return mrkdwn sections holding the mention and the lines, each within Slack's length limit."""
    head = mention_markup(mention)
    texts: list[str] = []
    for line in ([head] if head else []) + list(lines):
        if texts and len(texts[-1]) + 1 + len(line) <= SECTION_LIMIT:
            texts[-1] = f"{texts[-1]}\n{line}"
        else:
            texts.append(line[:SECTION_LIMIT])
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}} for text in texts if text]


def button(spec: dict[str, Any], handoff: str) -> dict[str, Any]:
    """Return one button whose action_id names the action and whose value is the handoff ref."""
    element = {"type": "button", "action_id": f"{ACTION_PREFIX}{spec['action']}", "value": handoff,
               "text": {"type": "plain_text", "text": spec["label"], "emoji": True}}
    if spec.get("style"):
        element["style"] = spec["style"]
    return element


def page_blocks(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Return a page's blocks: mention and lines, then its buttons (no actions block when there are none)."""
    blocks = sections(payload.get("lines") or [], payload.get("mention"))
    buttons = payload.get("buttons") or []
    if buttons:
        blocks.append({"type": "actions", "block_id": ACTIONS_BLOCK,
                       "elements": [button(spec, payload["handoff"]) for spec in buttons]})
    return blocks
