"""Build what Slack sends an app: block_actions, slash commands, view_submission and event envelopes."""

from __future__ import annotations

import copy
import time
from typing import Any

from bot.standins.slack.records import APP_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID, SlackMessage, block_buttons
from bot.standins.slack.state import SlackState

VERIFICATION_TOKEN = "carebridge-verification-token"  # deprecated by Slack, but still sent in every payload


def _team() -> dict[str, Any]:
    return {"id": TEAM_ID, "domain": TEAM_DOMAIN}


def user_ref(state: SlackState, user: str) -> dict[str, Any]:
    """Return the user object payloads carry, named after the registered user if there is one."""
    with state.lock:
        name = state.users.get(user, {}).get("name", user.lower())
    return {"id": user, "username": name, "name": name, "team_id": TEAM_ID}


def channel_name(state: SlackState, channel: str) -> str:
    """Return the name Slack shows for a conversation ('directmessage' for a DM)."""
    with state.lock:
        known = state.channels.get(channel, {})
    return "directmessage" if known.get("is_im") else known.get("name", channel)


def find_button(message: SlackMessage, action_id: str, value: str | None) -> dict[str, Any] | None:
    """Return the message's button with this action_id (and value, if given)."""
    for button in block_buttons(message.blocks):
        if button.get("action_id") == action_id and (value is None or button.get("value") == value):
            return button
    return None


def block_actions(state: SlackState, user: str, message: SlackMessage, action: dict[str, Any], trigger_id: str,
                  response_url: str) -> dict[str, Any]:
    """Build the block_actions payload for pressing a button under a channel message."""
    container = {"type": "message", "message_ts": message.ts, "channel_id": message.channel, "is_ephemeral": False}
    if message.thread_ts:
        container["thread_ts"] = message.thread_ts
    return {"type": "block_actions", "user": user_ref(state, user), "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN, "container": container, "trigger_id": trigger_id, "team": _team(),
            "enterprise": None, "is_enterprise_install": False,
            "channel": {"id": message.channel, "name": channel_name(state, message.channel)},
            "message": message.to_json(), "state": {"values": {}}, "response_url": response_url,
            "actions": [dict(action, action_ts=f"{time.time():.6f}")]}


def slash_command(state: SlackState, user: str, command: str, text: str, channel: str, trigger_id: str,
                  response_url: str) -> dict[str, str]:
    """Build the form fields Slack posts for a slash command."""
    return {"token": VERIFICATION_TOKEN, "team_id": TEAM_ID, "team_domain": TEAM_DOMAIN, "channel_id": channel,
            "channel_name": channel_name(state, channel), "user_id": user,
            "user_name": user_ref(state, user)["name"], "command": command, "text": text, "api_app_id": APP_ID,
            "is_enterprise_install": "false", "response_url": response_url, "trigger_id": trigger_id}


def state_values(values: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """Return view state values, wrapping plain strings as plain_text_input values."""
    wrapped: dict[str, dict[str, Any]] = {}
    for block_id, actions in (values or {}).items():
        wrapped[block_id] = {action_id: value if isinstance(value, dict) else
                             {"type": "plain_text_input", "value": value} for action_id, value in actions.items()}
    return wrapped


def view_submission(state: SlackState, user: str, view: dict[str, Any], values: dict | None,
                    private_metadata: str | None, trigger_id: str) -> dict[str, Any]:
    """Build the view_submission payload for pressing a modal's submit button."""
    submitted = copy.deepcopy(view)
    submitted["state"] = {"values": state_values(values)}
    if private_metadata is not None:
        submitted["private_metadata"] = private_metadata
    return {"type": "view_submission", "team": _team(), "user": user_ref(state, user), "api_app_id": APP_ID,
            "token": VERIFICATION_TOKEN, "trigger_id": trigger_id, "view": submitted, "response_urls": [],
            "enterprise": None, "is_enterprise_install": False}


def event_callback(state: SlackState, event_type: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Wrap one event in the event_callback envelope of the Events API (app_home_opened is filled in)."""
    event = {"type": event_type, **copy.deepcopy(fields)}
    if event_type == "app_home_opened" and event.get("user"):
        event.setdefault("channel", state.dm_id([event["user"]]))
        event.setdefault("tab", "home")
        with state.lock:
            if event["tab"] == "home" and event["user"] in state.homes:
                event.setdefault("view", copy.deepcopy(state.homes[event["user"]]))
    event.setdefault("event_ts", f"{time.time():.6f}")
    return {"token": VERIFICATION_TOKEN, "team_id": TEAM_ID, "api_app_id": APP_ID, "event": event,
            "type": "event_callback", "event_id": state.next_id("Ev"), "event_time": int(time.time()),
            "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True,
                                "is_enterprise_install": False}],
            "is_ext_shared_channel": False, "event_context": f"4-{state.next_id('ctx')}"}
