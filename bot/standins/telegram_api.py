"""Stand-in of the Telegram Bot API for tests, benchmarks and the sandbox (see bot.standins.telegram).

Usage with the real python-telegram-bot client::

    api = FakeBotApi()
    with api.running():
        bot = telegram.Bot(api.token, base_url=api.base_url)
        api.user_sends(42, "/start tok")
        ...  # bot.get_updates(), bot.send_message(42, ...)
        assert api.sent(42)[-1].text == "..."
"""

from bot.standins.telegram import (
    BOT_USER,
    AnsweredCallback,
    ApiError,
    FakeBotApi,
    RateLimits,
    RecordedCall,
    SentMessage,
    check_loopback,
)

__all__ = ["BOT_USER", "AnsweredCallback", "ApiError", "FakeBotApi", "RateLimits", "RecordedCall", "SentMessage",
           "check_loopback"]
