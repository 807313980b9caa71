"""The Web API methods for messages, conversations and users, as plain functions of (state, params)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from bot.standins.slack.records import (
    BOT_ID,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    Ephemeral,
    SlackError,
    SlackMessage,
)
from bot.standins.slack.state import SlackState

Handler = Callable[[SlackState, dict[str, Any]], dict[str, Any]]

MAX_TEXT = 40_000
MAX_BLOCKS = 50


def required(params: dict[str, Any], name: str, error: str = "invalid_arguments") -> Any:
    """Return a parameter, or raise Slack's error when it is missing or empty."""
    value = params.get(name)
    if value is None or value == "" or value == []:
        raise SlackError(error)
    return value


def blocks_of(params: dict[str, Any], limit: int = MAX_BLOCKS) -> list[dict[str, Any]] | None:
    """Return the blocks parameter (None if absent), checking it is a list of typed blocks."""
    blocks = params.get("blocks")
    if blocks is None:
        return None
    if not isinstance(blocks, list) or len(blocks) > limit or any(
            not isinstance(b, dict) or not b.get("type") for b in blocks):
        raise SlackError("invalid_blocks")
    return copy.deepcopy(blocks)


def _content(params: dict[str, Any], needed: bool = True) -> tuple[str | None, list | None]:
    text, blocks = params.get("text"), blocks_of(params)
    if needed and not text and not blocks and not params.get("attachments"):
        raise SlackError("no_text")
    if text is not None and len(str(text)) > MAX_TEXT:
        raise SlackError("msg_too_long")
    return (None if text is None else str(text)), blocks


def _channel(state: SlackState, params: dict[str, Any], name: str = "channel") -> str:
    return state.resolve(required(params, name, "channel_not_found"))


def auth_test(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    """Describe the bot token: workspace, bot user and bot id."""
    return {"url": f"https://{TEAM_DOMAIN}.slack.com/", "team": "CareBridge Test", "user": "carebridge",
            "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID, "is_enterprise_install": False}


def post_message(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    """Post a message (or a thread reply, with thread_ts) as the bot."""
    channel = _channel(state, params)
    text, blocks = _content(params)
    thread_ts = str(params["thread_ts"]) if params.get("thread_ts") else None
    message = SlackMessage(channel, state.next_ts(), text or "", blocks or [], thread_ts,
                           metadata=params.get("metadata"))
    state.store(message)
    return {"channel": channel, "ts": message.ts, "message": message.to_json()}


def update_message(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    """Replace a message's text and/or blocks (absent blocks are kept, [] removes them)."""
    channel = _channel(state, params)
    ts = str(required(params, "ts", "message_not_found"))
    text, blocks = _content(params, needed=False)
    if text is None and blocks is None and not params.get("attachments"):
        raise SlackError("no_text")
    message = state.edit(channel, ts, text, blocks)
    return {"channel": channel, "ts": ts, "text": message.text, "message": message.to_json()}


def delete_message(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    """Delete a message."""
    channel = _channel(state, params)
    ts = str(required(params, "ts", "message_not_found"))
    state.forget(channel, ts)
    return {"channel": channel, "ts": ts}


def post_ephemeral(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    """Show a message to one user in a channel."""
    channel = _channel(state, params)
    user = str(required(params, "user", "user_not_in_channel"))
    text, blocks = _content(params)
    ts = state.next_ts()
    thread_ts = str(params["thread_ts"]) if params.get("thread_ts") else None
    state.add_ephemeral(Ephemeral(channel, user, text or "", blocks or [], ts, thread_ts))
    return {"message_ts": ts}


def get_permalink(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    """Return the permanent URL of a message."""
    channel = _channel(state, params)
    message = state.find(channel, str(required(params, "message_ts", "message_not_found")))
    link = f"https://{TEAM_DOMAIN}.slack.com/archives/{channel}/p{message.ts.replace('.', '')}"
    if message.thread_ts and message.thread_ts != message.ts:
        link += f"?thread_ts={message.thread_ts}&cid={channel}"
    return {"channel": channel, "permalink": link}


def open_conversation(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    """Open (or find) the bot's DM with one user, or a group DM with several; ids are stable per user."""
    users = params.get("users")
    if isinstance(users, str):
        users = [u.strip() for u in users.split(",") if u.strip()]
    if not users:
        if params.get("channel"):
            return {"channel": {"id": _channel(state, params)}}
        raise SlackError("users_list_not_supplied")
    with state.lock:
        existed = state.dm_id(users) in state.channels
        channel = state.open_dm(list(users))
        full = params.get("return_im") in (True, "true", "1", 1)
        body = copy.deepcopy(state.channels[channel]) if full else {"id": channel}
    return {"no_op": existed, "already_open": existed, "channel": body}


def conversation_info(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    """Return a conversation object."""
    channel = _channel(state, params)
    with state.lock:
        return {"channel": copy.deepcopy(state.channels[channel])}


def user_info(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    """Return a registered user's profile."""
    user = str(required(params, "user", "user_not_found"))
    with state.lock:
        if user not in state.users:
            raise SlackError("user_not_found")
        return {"user": copy.deepcopy(state.users[user])}


def conversation_history(state: SlackState, params: dict[str, Any]) -> dict[str, Any]:
    """Return a channel's top-level messages, newest first (metadata only with include_all_metadata)."""
    channel = _channel(state, params)
    limit = int(params.get("limit") or 100)
    with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
    with state.lock:
        stored = [m for m in state.messages.get(channel, {}).values() if m.thread_ts in (None, m.ts)]
    newest = sorted(stored, key=lambda m: tuple(int(part) for part in m.ts.split(".")), reverse=True)[:limit]
    shown = []
    for message in newest:
        body = message.to_json()
        if not with_metadata:
            body.pop("metadata", None)
        shown.append(body)
    return {"messages": shown, "has_more": len(stored) > limit}


MESSAGE_METHODS: dict[str, Handler] = {
    "auth.test": auth_test,
    "chat.postMessage": post_message,
    "chat.update": update_message,
    "chat.delete": delete_message,
    "chat.postEphemeral": post_ephemeral,
    "chat.getPermalink": get_permalink,
    "conversations.open": open_conversation,
    "conversations.info": conversation_info,
    "conversations.history": conversation_history,
    "users.info": user_info,
}
