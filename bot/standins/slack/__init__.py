"""Local stand-in of the Slack Web API, and of Slack's users posting signed requests to an app.

Usage with the real slack_sdk client (and any slack_bolt app pointed at it)::

    api = FakeSlackApi(events_url="http://127.0.0.1:3000/slack/events")
    api.add_channel("C0BHDUTY", "bh-on-duty")
    api.add_user("U0NURSE", "nurse", real_name="Nora Nurse")
    with api.running():
        client = WebClient(token=api.token, base_url=api.base_url)
        ts = client.chat_postMessage(channel="C0BHDUTY", text="Page", blocks=[...])["ts"]
        api.press_button("U0NURSE", "C0BHDUTY", ts, "accept")  # signed block_actions to the app
        assert api.messages("C0BHDUTY")[-1].text == "..."

Faults: fail_next(method, status, ...), delay_next(method, seconds), down()/up(); RateLimits(...) for 429s.
"""

from bot.standins.slack.app import FakeSlackApi
from bot.standins.slack.limits import RateLimits
from bot.standins.slack.records import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    Ephemeral,
    RecordedCall,
    ResponsePost,
    SlackError,
    SlackMessage,
    UploadedFile,
)
from bot.standins.server import LoopbackServer
from bot.standins.slack.users import SlackRequest

__all__ = ["APP_ID", "BOT_ID", "BOT_USER_ID", "TEAM_ID", "Ephemeral", "FakeSlackApi", "LoopbackServer", "RateLimits",
           "RecordedCall", "ResponsePost", "SlackError", "SlackMessage", "SlackRequest", "UploadedFile"]
