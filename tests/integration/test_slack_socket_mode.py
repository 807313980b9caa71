"""Slack Socket Mode: the real bolt handler and slack_sdk aiohttp client against the stand-in's websocket host."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack import app as slack_app
from bot.adapters.slack.app import build_slack_app
from bot.adapters.slack.socket import SlackSocket, socket_handler
from bot.config import Settings
from bot.runner import ConfigurationError, check_settings
from bot.services.handoffs import ClinicianReply
from bot.standins.slack import FakeSlackApi
from bot.standins.slack.socket import envelope
from bot.standins.telegram.app import FakeBotApi
from tests.e2e.telegram_harness import RunningBot
from tests.e2e.test_warm_handoff import CHANNEL, page_in_channel, screen_to_item9
from tests.integration.test_slack_adapter import DUTY, NURSE, FakeHandoffs, deliver_all_sync, wait_for, workspace

NO_URL = "socket-mode:"  # requests go over the websocket; the stand-in's request builders still want a URL


class SocketApp:
    """Run build_slack_app's bolt app linked by Socket Mode, in a thread with its own loop, as `carebridge run` does."""

    def __init__(self, api: FakeSlackApi, app_token: str | None = None):
        self.api, self.app_token = api, app_token or api.app_token
        self.replies: list[ClinicianReply] = []
        self.services = object()
        self._ready, self.error = threading.Event(), None
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        try:
            client = AsyncWebClient(token=self.api.token, base_url=self.api.base_url)
            self.link = SlackSocket(build_slack_app(self.services, "", client, self.replies.append), self.app_token,
                                    ping_interval=1)
            await self.link.open()
        except BaseException as exc:  # surfaced by __enter__
            self.error = exc
            return
        finally:
            self._ready.set()
        await self._stop.wait()
        await self.link.close()

    def __enter__(self) -> SocketApp:
        self._thread.start()
        self._ready.wait(10)
        if self.error:
            raise self.error
        return self

    def __exit__(self, *exc_info) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)
        assert not self._thread.is_alive()


@pytest.fixture
def linked(monkeypatch):
    """Serve the stand-in, post a page, and link the bolt app to the stand-in over Socket Mode."""
    api = workspace(events_url=NO_URL)
    with api.running():
        sent = deliver_all_sync(api)
        with SocketApp(api) as app:
            app.ts, app.api = sent.message_id, api
            app.use = lambda fake: monkeypatch.setattr(slack_app, "act_on_handoff", fake) or fake
            wait_for(lambda: api.socket_connected)
            yield app


def test_the_app_opens_a_connection_with_its_app_token_and_is_greeted(linked):
    [opened] = linked.api.calls_of("apps.connections.open")
    assert opened.ok
    [ticket] = linked.api.sockets.tickets.values()
    assert ticket.token == linked.api.app_token and ticket.token.startswith("xapp-") and ticket.used
    assert linked.api.calls_of("chat.postMessage") and not linked.api.calls_of("apps.connections.open")[1:]
    assert asyncio.run_coroutine_threadsafe(linked.link.connected(), linked._loop).result(5)


def test_a_press_over_the_socket_is_acked_at_once_then_applied_and_answered(linked):
    fake = linked.use(FakeHandoffs(ClinicianReply("taken", note="Already accepted by Otto"), hold=True))
    press = linked.api.make_button_press(NURSE, DUTY, linked.ts, "handoff:accept")
    started = time.monotonic()
    ack = linked.api.socket_send(press)
    assert time.monotonic() - started < 3 and set(ack) == {"envelope_id"}  # a bare ack: nothing to say in it
    assert linked.api.sockets.acks == [ack]
    wait_for(lambda: fake.seen)
    assert linked.replies == [] and linked.api.ephemerals(NURSE) == []  # acked while the service still works
    fake.released.set()
    wait_for(lambda: linked.api.ephemerals(NURSE))
    action_ts = press.payload["actions"][0]["action_ts"]
    assert [(a.key, a.handoff_ref, a.action) for a in fake.seen] == [
        (f"slack:action:{linked.ts}:{action_ts}:{NURSE}", "H1", "accept")]
    assert linked.replies == [ClinicianReply("taken", note="Already accepted by Otto")]
    assert linked.api.ephemerals(NURSE)[0].text == "Already accepted by Otto"


def test_an_envelope_nobody_handles_is_not_acked(linked):
    fake = linked.use(FakeHandoffs())
    other = linked.api.make_button_press(NURSE, DUTY, linked.ts, "triage:open", "H1", require_button=False)
    with pytest.raises(TimeoutError):
        linked.api.socket_send(other, timeout=0.5)  # bolt acks only what a listener took; Slack shows an error
    assert fake.seen == [] and linked.api.sockets.acks == []


def test_the_app_reconnects_when_slack_asks_and_keeps_taking_presses(linked):
    fake = linked.use(FakeHandoffs())
    linked.api.socket_disconnect("refresh_requested")
    wait_for(lambda: len([t for t in linked.api.sockets.tickets.values() if t.used]) == 2)
    wait_for(lambda: linked.api.sockets.connected == 1)
    assert linked.api.socket_send(linked.api.make_button_press(NURSE, DUTY, linked.ts, "handoff:decline"))
    wait_for(lambda: linked.replies)
    assert [a.action for a in fake.seen] == ["decline"]


def test_a_refused_app_token_blocks_neither_start_nor_shutdown():
    api = FakeSlackApi()
    with api.running():
        started = time.monotonic()
        with SocketApp(api, app_token="xapp-1-A0CAREBRDG-1-revoked"):  # open() returns while the SDK retries
            wait_for(lambda: api.calls_of("apps.connections.open"))
        assert time.monotonic() - started < 5 and not api.socket_connected
        assert api.calls_of("apps.connections.open")[0].error == "invalid_auth"


@pytest.mark.parametrize("token, error", [("xoxb-carebridge-test", "not_allowed_token_type"), (None, "not_authed"),
                                          ("xapp-1-A0CAREBRDG-1-forged", "invalid_auth")])
def test_connections_open_takes_only_the_app_token(token, error):
    api = FakeSlackApi()
    with api.running():
        with pytest.raises(SlackApiError) as refused:
            WebClient(base_url=api.base_url).api_call("apps.connections.open", params={"token": token} if token else {})
        assert refused.value.response["error"] == error
        with pytest.raises(SlackApiError) as misused:  # and an app token opens no bot method
            WebClient(token=api.app_token, base_url=api.base_url).chat_postMessage(channel="C0X", text="x")
        assert misused.value.response["error"] == "not_allowed_token_type"
        assert WebClient(base_url=api.base_url).apps_connections_open(app_token=api.app_token)["url"].startswith(
            f"ws://127.0.0.1:{api.sockets.port}/socket/")
    assert api.sockets.tickets and not any(t.used for t in api.sockets.tickets.values())


def test_envelopes_are_typed_like_slacks():
    api = workspace(events_url=NO_URL)
    command = api.make_slash_command(NURSE, "/oncall").payload
    assert envelope(command)["type"] == "slash_commands" and envelope(command)["accepts_response_payload"]
    event = envelope(api.make_event("app_home_opened", {"user": NURSE}).payload)
    assert (event["type"], event["accepts_response_payload"], event["retry_attempt"]) == ("events_api", False, 0)
    assert envelope({"type": "block_actions"})["type"] == "interactive"
    assert envelope({"type": "view_submission"})["accepts_response_payload"] is True
    with pytest.raises(ValueError):
        envelope({"type": "url_verification"})
    api.close()


def test_the_handler_uses_the_apps_client_and_refuses_a_bot_token():
    async def build():
        client = AsyncWebClient(token="xoxb-x", base_url="http://127.0.0.1:9/api/")
        app = build_slack_app(object(), "", client, lambda reply: None)
        handler = socket_handler(app, "xapp-1-x")
        try:
            assert handler.client.web_client is app.client and handler.app_token == "xapp-1-x"
            assert app.client.base_url == client.base_url  # apps.connections.open goes to SLACK_API_URL
        finally:
            await handler.close_async()
        with pytest.raises(ValueError):
            socket_handler(app, "xoxb-x")

    asyncio.run(build())


# -- carebridge run --------------------------------------------------------------------------------------------


def settings(**values) -> Settings:
    """Return settings from these values alone (no .env, Slack unset unless given)."""
    base = {"TELEGRAM_BOT_TOKEN": "1:x", "SLACK_BOT_TOKEN": None, "SLACK_SIGNING_SECRET": None,
            "SLACK_APP_TOKEN": None}
    return Settings(_env_file=None, **{**base, **values})


def test_run_accepts_socket_mode_without_a_signing_secret():
    check_settings(settings(SLACK_BOT_TOKEN="xoxb-x", SLACK_APP_TOKEN="xapp-1-x"))
    check_settings(settings(SLACK_BOT_TOKEN="xoxb-x", SLACK_SIGNING_SECRET="s"))
    refusals = {"SLACK_SIGNING_SECRET": settings(SLACK_BOT_TOKEN="xoxb-x"),
                "xapp-": settings(SLACK_BOT_TOKEN="xoxb-x", SLACK_APP_TOKEN="xoxb-y"),
                "SLACK_BOT_TOKEN must be set": settings(SLACK_APP_TOKEN="xapp-1-x")}
    for fragment, wrong in refusals.items():
        with pytest.raises(ConfigurationError, match=fragment):
            check_settings(wrong)


def test_run_in_socket_mode_pages_and_applies_an_accept_from_the_socket(database_url):
    slack = FakeSlackApi(events_url=NO_URL)
    slack.add_channel(CHANNEL, "team-bh")
    for user, name in (("U0DANA", "dana"), ("U0BEN", "ben")):
        slack.add_user(user, name)
    with FakeBotApi().running() as telegram, slack.running():
        with RunningBot(telegram, database_url, SLACK_BOT_TOKEN=slack.token, SLACK_APP_TOKEN=slack.app_token,
                        SLACK_SIGNING_SECRET=None, SLACK_API_URL=slack.base_url) as bot:
            wait_for(lambda: slack.socket_connected, 10)
            screen_to_item9(bot, telegram)
            page = page_in_channel(slack)
            ref = next(value for action, value, _label in page.buttons if action == "handoff:accept")
            ack = slack.socket_send(slack.make_button_press("U0BEN", CHANNEL, page.ts, "handoff:accept", ref))
            assert set(ack) == {"envelope_id"}
            wait_for(lambda: "Accepted by <@U0BEN>" in str(slack.message(CHANNEL, page.ts).blocks), 15)
            assert slack.message(CHANNEL, page.ts).buttons[0][0] == "handoff:contact_made"
        wait_for(lambda: not slack.socket_connected)  # run closed its link on the way out
    assert bot.error is None and len(slack.calls_of("apps.connections.open")) == 1
