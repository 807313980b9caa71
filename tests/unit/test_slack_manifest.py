"""The Slack app manifest asks for what the app handles: its commands, events, interactivity and scopes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlencode

import yaml
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.app import build_slack_app
from bot.adapters.slack.http import EVENTS_PATH

MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "slack-app-manifest.yaml"


def answered(command: str) -> bool:
    """Say whether one of the bolt app's listeners matches a slash command."""
    app = build_slack_app(object(), "secret", AsyncWebClient(token="xoxb-test"), lambda reply: None)
    body = urlencode({"command": command, "text": "", "user_id": "U0PCP", "team_id": "T0", "trigger_id": "t"})

    async def matches() -> bool:
        request = AsyncBoltRequest(body=body, mode="socket_mode")
        response = BoltResponse(status=404)
        return any([await listener.async_matches(req=request, resp=response) for listener in app._async_listeners])

    return asyncio.run(matches())


def test_the_manifest_declares_every_slash_command_the_app_answers():
    manifest = yaml.safe_load(MANIFEST.read_text())
    commands = {entry["command"] for entry in manifest["features"]["slash_commands"]}
    assert commands == {"/consult", "/oncall", "/registry"}
    assert all(answered(command) for command in commands)
    assert not answered("/unknown")
    assert all(entry["url"].endswith(EVENTS_PATH) and entry["should_escape"] for entry in
               manifest["features"]["slash_commands"])


def test_the_manifest_enables_home_events_interactivity_and_the_scopes_used():
    manifest = yaml.safe_load(MANIFEST.read_text())
    settings = manifest["settings"]
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert settings["event_subscriptions"]["bot_events"] == ["app_home_opened"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["interactivity"]["request_url"].endswith(EVENTS_PATH)
    assert {"chat:write", "commands", "im:write", "files:write"} <= set(manifest["oauth_config"]["scopes"]["bot"])
