"""Show Slack as a clinician would see it: Block Kit turned into simple parts, mrkdwn into readable text."""

from __future__ import annotations

import html
import re
from typing import Any

from bot.standins.slack.records import Ephemeral, SlackMessage
from bot.standins.slack_api import FakeSlackApi

_ANGLED = re.compile(r"<([^<>]+)>")
BOT_NAME = "CareBridge"


def mrkdwn_text(text: str, names: dict[str, str]) -> str:
    """Return mrkdwn with mentions, broadcasts and links spelled out as Slack displays them."""

    def spell(match: re.Match) -> str:
        inner, _, label = match.group(1).partition("|")
        if inner.startswith("@"):
            return "@" + names.get(inner[1:], label or inner[1:])
        if inner.startswith("!subteam^"):
            return label or "@team"
        if inner.startswith("!"):
            return "@" + inner[1:]
        if inner.startswith("#"):
            return "#" + (label or inner[1:])
        return label or inner

    return html.unescape(_ANGLED.sub(spell, text or ""))


def text_of(obj: dict[str, Any] | None, names: dict[str, str]) -> str:
    """Return the text of a Block Kit text object (mrkdwn spelled out, plain_text as is)."""
    if not obj:
        return ""
    text = str(obj.get("text") or "")
    return mrkdwn_text(text, names) if obj.get("type") == "mrkdwn" else text


def button_json(element: dict[str, Any], block_id: str | None, names: dict[str, str]) -> dict[str, Any]:
    """Return a button as the page shows and presses it."""
    return {"label": text_of(element.get("text"), names), "action_id": element.get("action_id", ""),
            "value": element.get("value"), "style": element.get("style"), "url": element.get("url"),
            "block_id": block_id}


def _elements_text(elements: list[dict[str, Any]], names: dict[str, str]) -> str:
    texts = [text_of(e, names) if e.get("type") in ("mrkdwn", "plain_text") else e.get("alt_text", "")
             for e in elements]
    return "  ".join(t for t in texts if t)


def block_json(block: dict[str, Any], names: dict[str, str]) -> list[dict[str, Any]]:
    """Return the page parts of one block: text, header, context, buttons, divider or a named placeholder."""
    kind, block_id = block.get("type"), block.get("block_id")
    if kind == "section":
        parts = [{"kind": "text", "text": text_of(block.get("text"), names),
                  "mrkdwn": (block.get("text") or {}).get("type") == "mrkdwn"}] if block.get("text") else []
        parts += [{"kind": "text", "text": text_of(f, names), "mrkdwn": f.get("type") == "mrkdwn"}
                  for f in block.get("fields") or []]
        accessory = block.get("accessory") or {}
        if accessory.get("type") == "button":
            parts.append({"kind": "buttons", "buttons": [button_json(accessory, block_id, names)]})
        return parts
    if kind == "header":
        return [{"kind": "header", "text": text_of(block.get("text"), names)}]
    if kind == "context":
        return [{"kind": "context", "text": _elements_text(block.get("elements") or [], names)}]
    if kind == "actions":
        buttons = [button_json(e, block_id, names) for e in block.get("elements") or [] if e.get("type") == "button"]
        return [{"kind": "buttons", "buttons": buttons}] if buttons else []
    if kind == "divider":
        return [{"kind": "divider"}]
    if kind == "image":
        return [{"kind": "context", "text": f"[image: {block.get('alt_text', '')}]"}]
    return [{"kind": "context", "text": f"[{kind} block]"}]


def blocks_json(blocks: list[dict[str, Any]] | None, fallback: str, names: dict[str, str]) -> list[dict[str, Any]]:
    """Return the parts of a message's blocks, or its text when it has none."""
    if not blocks:
        return [{"kind": "text", "text": mrkdwn_text(fallback, names), "mrkdwn": True}] if fallback else []
    return [part for block in blocks for part in block_json(block, names)]


def message_json(message: SlackMessage, names: dict[str, str], day: int) -> dict[str, Any]:
    """Return one channel or DM message for the page."""
    files = [{"name": f.get("title") or f.get("name", ""), "url": f"/api/slack/files/{f['id']}?day={day}",
              "image": str(f.get("mimetype", "")).startswith("image/")} for f in message.files]
    return {"ts": message.ts, "channel": message.channel, "author": names.get(message.user or "", BOT_NAME),
            "parts": blocks_json(message.blocks, message.text, names), "edited": bool(message.edits),
            "files": files, "ephemeral": False, "replies": []}


def ephemeral_json(note: Ephemeral, names: dict[str, str]) -> dict[str, Any]:
    """Return a message only the chosen clinician sees."""
    return {"ts": note.message_ts, "channel": note.channel, "author": BOT_NAME,
            "parts": blocks_json(note.blocks, note.text, names), "edited": False, "files": [], "ephemeral": True,
            "replies": []}


def conversation_json(slack: FakeSlackApi, channel: str, user: str | None, names: dict[str, str],
                      day: int) -> list[dict[str, Any]]:
    """Return a channel's messages with thread replies under their parent, and the user's ephemeral notes."""
    stored = [message_json(m, names, day) for m in slack.messages(channel)]
    threads = {m.ts: m.thread_ts for m in slack.messages(channel)}
    notes = [(e.thread_ts, ephemeral_json(e, names)) for e in (slack.ephemerals(user) if user else [])
             if e.channel == channel]
    top: list[dict[str, Any]] = []
    by_ts: dict[str, dict[str, Any]] = {}
    for item in stored:
        parent = threads.get(item["ts"])
        if parent and parent != item["ts"] and parent in by_ts:
            by_ts[parent]["replies"].append(item)
        else:
            top.append(item)
            by_ts[item["ts"]] = item
    for parent, item in notes:
        (by_ts[parent]["replies"] if parent in by_ts else top).append(item)
    top.sort(key=lambda m: _ts_key(m["ts"]))
    for item in top:
        item["replies"].sort(key=lambda m: _ts_key(m["ts"]))
    return top


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    return int(seconds), int(micros or 0)
