"""Slack's posting limit (about one message per second per channel, short bursts allowed) as token buckets."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RateLimits:
    """Hold the per-channel limit the stand-in enforces and the methods it applies to."""

    per_channel_per_second: float = 1.0
    per_channel_burst: int = 3
    methods: frozenset[str] = frozenset({"chat.postMessage"})


@dataclass
class _Bucket:
    """Refill at rate tokens per second up to capacity; a call takes one token."""

    rate: float
    capacity: float
    tokens: float = field(init=False)
    stamp: float | None = None

    def __post_init__(self) -> None:
        self.tokens = self.capacity

    def wait_needed(self, now: float) -> float:
        """Refill, and return the seconds until one token is available (0 if it is now)."""
        if self.stamp is not None:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class RateLimiter:
    """Decide whether a call may pass; callers hold the state lock."""

    def __init__(self, limits: RateLimits) -> None:
        """Start with full buckets."""
        self.limits = limits
        self._channels: dict[str, _Bucket] = {}

    def check(self, method: str, channel: str | None, now: float) -> int | None:
        """Take a token from the channel's bucket, or return Retry-After seconds if it is empty."""
        if channel is None or method not in self.limits.methods:
            return None
        lim = self.limits
        bucket = self._channels.setdefault(channel, _Bucket(lim.per_channel_per_second, max(1, lim.per_channel_burst)))
        wait = bucket.wait_needed(now)
        if wait > 0:
            return max(1, math.ceil(wait))
        bucket.tokens -= 1
        return None
