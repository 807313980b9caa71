"""Local stand-in of the Telegram Bot API: HTTP app, state and recording, update factories."""

from bot.standins.telegram.app import FakeBotApi
from bot.standins.telegram.limits import RateLimits
from bot.standins.telegram.state import AnsweredCallback, ApiError, RecordedCall, SentMessage
from bot.standins.telegram.updates import BOT_USER
from bot.standins.telegram.wire import check_loopback

__all__ = ["BOT_USER", "AnsweredCallback", "ApiError", "FakeBotApi", "RateLimits", "RecordedCall", "SentMessage",
           "check_loopback"]
