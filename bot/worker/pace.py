"""The pace of sending: this process's token bucket, or one shared by every worker in the database."""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass

from aiolimiter import AsyncLimiter

from bot.store.leases import SqlRateBucket


@dataclass(frozen=True)
class RateLimits:
    """Our sending pace, kept under Telegram's 30/s overall and ~1/s per chat with room for network jitter."""

    global_per_second: float = 29
    # Small: a message allowed now may reach Telegram a little later (a busy host, the network) and bunch up with
    # later ones; with 5, a send may lag its turn by up to 0.8 s and Telegram still sees at most 30 in any second.
    global_burst: int = 5
    per_chat_per_second: float = 1
    per_chat_burst: int = 2


# Chats held back by their rate limit are let go on this grid of loop times, so that one wake of the worker sends
# for several chats (at 50 chats in conversation, about five a wake instead of one); a send waits at most this
# much longer than its limit asks.
TICK_SECONDS = 0.1


def on_tick(moment: float) -> float:
    """Return the first tick of the grid at or after a loop time."""
    tick = math.ceil(moment / TICK_SECONDS) * TICK_SECONDS
    return tick if tick >= moment else tick + TICK_SECONDS


def seconds_to_capacity(limiter: AsyncLimiter) -> float:
    """Return how long until a full limiter can take one more (its bucket leaks at max_rate per time_period)."""
    rate = limiter.max_rate / limiter.time_period
    level = getattr(limiter, "_level", limiter.max_rate)  # aiolimiter's current fill; if it is renamed, wait a whole slot
    return max(0.0, level + 1 - limiter.max_rate) / rate


class LocalPace:
    """The overall send rate of one process."""

    def __init__(self, per_second: float, burst: int):
        self.batch = burst
        self._limiter = AsyncLimiter(burst, burst / per_second)

    async def take(self, wanted: int) -> int:
        """Take up to `wanted` sends that may go now; return how many."""
        taken = 0
        while taken < wanted and self._limiter.has_capacity():
            await self._limiter.acquire()
            taken += 1
        return taken

    def seconds_to_capacity(self) -> float:
        """Return how long until one more send may go."""
        return seconds_to_capacity(self._limiter)


class SharedPace:
    """The overall send rate of every worker together, kept in a database row."""

    def __init__(self, bucket: SqlRateBucket):
        self.bucket = bucket
        self.batch = bucket.burst
        self._next_try = 0.0

    async def take(self, wanted: int) -> int:
        """Take up to `wanted` sends from the shared bucket; return how many."""
        now = asyncio.get_running_loop().time()
        if now < self._next_try:
            return 0
        taken, wait = await asyncio.to_thread(self.bucket.take, wanted)
        self._next_try = now + wait if taken < wanted else 0.0
        return taken

    def seconds_to_capacity(self) -> float:
        """Return how long until the bucket has a token again (as last seen)."""
        return max(0.0, self._next_try - asyncio.get_running_loop().time())
