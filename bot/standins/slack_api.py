"""Stand-in of the Slack Web API for tests, benchmarks and the sandbox (see bot.standins.slack).

Usage with the real slack_sdk client::

    api = FakeSlackApi()
    api.add_channel("C0BHDUTY", "bh-on-duty")
    with api.running():
        client = slack_sdk.WebClient(token=api.token, base_url=api.base_url)
        client.chat_postMessage(channel="C0BHDUTY", text="Page")
        assert api.messages("C0BHDUTY")[-1].text == "Page"
"""

from bot.standins.slack import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    Ephemeral,
    FakeSlackApi,
    LoopbackServer,
    RateLimits,
    RecordedCall,
    ResponsePost,
    SlackError,
    SlackMessage,
    SlackRequest,
    UploadedFile,
)
from bot.standins.telegram import check_loopback

__all__ = ["APP_ID", "BOT_ID", "BOT_USER_ID", "TEAM_ID", "Ephemeral", "FakeSlackApi", "LoopbackServer", "RateLimits",
           "RecordedCall", "ResponsePost", "SlackError", "SlackMessage", "SlackRequest", "UploadedFile",
           "check_loopback"]
