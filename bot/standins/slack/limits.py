"""Slack's posting limit (about one message per second per channel, short bursts allowed) as token buckets."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bot.standins.buckets import TokenBucket


@dataclass(frozen=True)
class RateLimits:
    """Hold the per-channel limit the stand-in enforces and the methods it applies to."""

    per_channel_per_second: float = 1.0
    per_channel_burst: int = 3
    methods: frozenset[str] = frozenset({"chat.postMessage"})


class RateLimiter:
    """Decide whether a call may pass; callers hold the state lock."""

    def __init__(self, limits: RateLimits) -> None:
        """Start with full buckets."""
        self.limits = limits
        self._channels: dict[str, TokenBucket] = {}

    def check(self, method: str, channel: str | None, now: float) -> int | None:
        """Take a token from the channel's bucket, or return Retry-After seconds if it is empty."""
        if channel is None or method not in self.limits.methods:
            return None
        lim = self.limits
        bucket = self._channels.setdefault(channel, TokenBucket(lim.per_channel_per_second, max(1, lim.per_channel_burst)))
        wait = bucket.wait_needed(now)
        if wait > 0:
            return max(1, math.ceil(wait))
        bucket.tokens -= 1
        return None
