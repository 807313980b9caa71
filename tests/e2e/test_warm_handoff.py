"""The warm handoff end to end: Telegram patient, real bot, Slack channel — both platforms are local stand-ins."""

from __future__ import annotations

import pytest

from bot.services.enrollment import create_enrollment_token
from bot.standins.slack_api import FakeSlackApi
from bot.standins.telegram.app import FakeBotApi
from tests.e2e.telegram_harness import RunningBot, last_message, wait_for

CHAT = 5560001
CHANNEL = "C0TEAMBH"
ITEM9_POSITIVE = ["3", "3", "2", "2", "2", "2", "2", "2", "2"]  # PHQ-2 then PHQ-9; item 9 "Several days"


def running_bot(telegram, slack, database_url) -> RunningBot:
    port = int(slack.events_url.split(":")[2].split("/")[0])
    return RunningBot(telegram, database_url, SLACK_BOT_TOKEN=slack.token, SLACK_SIGNING_SECRET=slack.signing_secret,
                      SLACK_API_URL=slack.base_url, CAREBRIDGE_HTTP_PORT=port)


def screen_to_item9(bot: RunningBot, telegram: FakeBotApi) -> None:
    token = create_enrollment_token(bot.services, "team", None, 7)
    telegram.user_sends(CHAT, f"/start {token}")
    last_message(telegram, CHAT, 1)
    telegram.user_sends(CHAT, "I agree")
    for text in ITEM9_POSITIVE:
        telegram.user_sends(CHAT, text)


def page_in_channel(slack: FakeSlackApi):
    return wait_for(lambda: slack.messages(CHANNEL) and slack.messages(CHANNEL)[0], what="the page in the channel")


def test_item9_pages_the_primary_who_accepts_once_and_the_patient_hears_who_will_call(telegram, slack, database_url):
    with running_bot(telegram, slack, database_url) as bot:
        screen_to_item9(bot, telegram)
        wait_for(lambda: any("988" in m.text for m in telegram.sent(CHAT)), what="the crisis resources")
        page = page_in_channel(slack)
        assert "<@U0DANA>" in str(page.blocks) and "URGENT" in str(page.blocks)
        ref = next(value for action, value, _label in page.buttons if action == "handoff:accept")
        assert slack.press_button("U0BEN", CHANNEL, page.ts, "handoff:accept", ref).status_code == 200
        wait_for(lambda: "Accepted by <@U0BEN>" in str(slack.message(CHANNEL, page.ts).blocks), what="the page update")
        assert slack.message(CHANNEL, page.ts).buttons[0][0] == "handoff:contact_made"
        told = wait_for(lambda: [m for m in telegram.sent(CHAT) if "Ben Okafor" in m.text], what="the patient told")
        assert "within the hour" in told[0].text
        slack.press_button("U0DANA", CHANNEL, page.ts, "handoff:accept", ref, require_button=False)  # a stale view
        wait_for(lambda: any("Already accepted by <@U0BEN>" in str(e) for e in slack.ephemerals("U0DANA")),
                 what="the late presser told who has it")
        assert len([m for m in telegram.sent(CHAT) if "Ben Okafor" in m.text]) == 1
    assert bot.error is None


@pytest.mark.fault
def test_while_slack_is_down_the_patient_gets_crisis_resources_and_the_page_arrives_after(telegram, slack,
                                                                                       database_url):
    slack.down()
    with running_bot(telegram, slack, database_url) as bot:
        screen_to_item9(bot, telegram)
        wait_for(lambda: any("988" in m.text for m in telegram.sent(CHAT)), what="the crisis resources")
        wait_for(lambda: slack.calls_of("chat.postMessage"), what="a page attempt")
        assert slack.messages(CHANNEL) == []
        slack.up()
        page = page_in_channel(slack)
        assert "URGENT" in str(page.blocks)
    assert len(slack.messages(CHANNEL)) == 1


@pytest.mark.fault
def test_slack_answering_429_then_500_for_a_while_delays_the_page_but_delivers_it_once(telegram, slack,
                                                                                       database_url):
    slack.fail_next("chat.postMessage", status=429, retry_after=1, times=2)
    slack.fail_next("chat.postMessage", status=500, times=2)
    with running_bot(telegram, slack, database_url) as bot:
        screen_to_item9(bot, telegram)
        wait_for(lambda: any("988" in m.text for m in telegram.sent(CHAT)), what="the crisis resources")
        page = page_in_channel(slack)
        assert "URGENT" in str(page.blocks)
    attempts = slack.calls_of("chat.postMessage")
    assert [call.status for call in attempts] == [429, 429, 500, 500, 200]
    assert attempts[1].time - attempts[0].time >= 0.95  # Retry-After: 1 honoured
    assert len(slack.messages(CHANNEL)) == 1 and bot.error is None
