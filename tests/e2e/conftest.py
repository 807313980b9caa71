"""End-to-end fixtures: the Bot API and Slack Web API stand-ins, served on 127.0.0.1."""

from __future__ import annotations

import socket

import pytest

from bot.standins.slack_api import FakeSlackApi
from bot.standins.telegram.app import FakeBotApi

CHANNEL = "C0TEAMBH"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def telegram():
    with FakeBotApi().running() as running:
        yield running


@pytest.fixture
def slack():
    port = free_port()
    api = FakeSlackApi(events_url=f"http://127.0.0.1:{port}/slack/events")
    api.add_channel(CHANNEL, "team-bh")
    for user, name in (("U0DANA", "dana"), ("U0BEN", "ben"), ("U0PCP", "pat"), ("U0NIGHT", "night"),
                       ("U0CARE", "cara")):
        api.add_user(user, name)
    with api.running():
        yield api
