"""Slack down: the ladder climbs on time from the database, and everything reaches the channel once it is back."""

from __future__ import annotations

import asyncio

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.outbound import SlackSender
from bot.services.timers import fire_due_timers
from bot.standins.slack import FakeSlackApi
from bot.worker.delivery import DeliveryWorker
from bot.worker.pace import RateLimits
from tests.integration.test_handoffs import CHANNEL, paged_patient, slack_rows

pytestmark = pytest.mark.fault


def deliver_slack(services, api: FakeSlackApi, passes: int = 5) -> None:
    """Run the Slack delivery worker a few passes against the stand-in (served in this loop)."""

    async def run() -> None:
        async with api:
            worker = DeliveryWorker(services.store.outbox, "slack",
                                    SlackSender(AsyncWebClient(token=api.token, base_url=api.base_url)),
                                    services.clock, RateLimits(100, 100, 100, 100))
            for _ in range(passes):
                await worker.run_once()
            worker.record()

    asyncio.run(run())


def test_while_slack_is_down_the_ladder_climbs_on_time_and_the_channel_gets_it_all_once_after(patient_chat, clock):
    api = FakeSlackApi()
    api.add_channel(CHANNEL, "team-bh")
    chat = paged_patient(patient_chat)  # item 9: crisis resources queued for the patient, urgent page for the team
    services = chat.services
    api.down()
    deliver_slack(services, api)
    assert api.messages(CHANNEL) == [] and api.calls_of("chat.postMessage")  # tried, refused, kept
    clock.advance(minutes=2)
    assert fire_due_timers(services) == 1  # the backup is paged on time, with Slack still down
    clock.advance(minutes=2)
    assert fire_due_timers(services) == 1  # then the whole channel
    deliver_slack(services, api)
    assert api.messages(CHANNEL) == []
    api.up()
    clock.advance(seconds=30)  # past the back-off of the last failed try
    deliver_slack(services, api)
    assert slack_rows(services) == []
    [page] = [m for m in api.messages(CHANNEL) if m.thread_ts is None]
    replies = [m.text for m in api.thread(CHANNEL, page.ts)[1:]]
    assert "Paging <@U0BEN>" in replies[0] and replies[1] == "No answer after 2 min. Paging <!channel> now."
    assert "Nobody has accepted" in replies[2]
