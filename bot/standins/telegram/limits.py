"""Telegram's flood limits as token buckets."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.standins.buckets import TokenBucket

# Methods that post or change a message and so count against the flood limits.
LIMITED_METHODS = frozenset(
    {"sendmessage", "sendphoto", "senddocument", "sendsticker", "sendmediagroup",
     "editmessagetext", "editmessagereplymarkup"}
)


@dataclass(frozen=True)
class RateLimits:
    """Hold the flood limits the stand-in enforces, defaulting to Telegram's published ones."""

    global_per_second: float = 30
    per_chat_per_second: float = 1
    per_chat_burst: int = 3
    per_group_per_minute: float = 20


class RateLimiter:
    """Decide whether a call may pass; callers hold the state lock."""

    def __init__(self, limits: RateLimits) -> None:
        """Start with full buckets."""
        self.limits = limits
        self._global = TokenBucket(limits.global_per_second, max(1.0, limits.global_per_second))
        self._chats: dict[int | str, TokenBucket] = {}
        self._groups: dict[int | str, TokenBucket] = {}

    def check(self, chat_id: int | str | None, is_group: bool, now: float) -> int | None:
        """Take a token from every bucket that applies, or return retry_after seconds if one is empty."""
        buckets = [self._global]
        if chat_id is not None:
            lim = self.limits
            buckets.append(self._chats.setdefault(
                chat_id, TokenBucket(lim.per_chat_per_second, max(1, lim.per_chat_burst))))
            if is_group:
                buckets.append(self._groups.setdefault(
                    chat_id, TokenBucket(lim.per_group_per_minute / 60, max(1.0, lim.per_group_per_minute))))
        wait = max(bucket.wait_needed(now) for bucket in buckets)
        if wait > 0:
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.tokens -= 1
        return None
