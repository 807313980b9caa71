"""Injected faults, outages and Slack's posting limit, decided before a call does anything."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from bot.standins.slack.limits import RateLimiter, RateLimits
from bot.standins.slack.records import SlackError


@dataclass
class _Fault:
    status: int  # 0: only delay
    error: str | None
    retry_after: int | None
    delay: float


class Faults:
    """Queue per-method failures and delays, switch outages on and off, and apply the rate limit."""

    def __init__(self, limits: RateLimits | None = None) -> None:
        """Start with no faults, Slack up, and the limit on unless limits is None."""
        self.lock = threading.RLock()
        self.too_many_requests = 0
        self._faults: dict[str, list[_Fault]] = {}
        self._down_until: float | None = None
        self._limiter = RateLimiter(limits) if limits else None

    def add_fault(self, method: str, status: int, times: int, retry_after: int | None, error: str | None,
                  delay: float) -> None:
        """Make the next `times` calls of method fail (status 0 means: only delay)."""
        with self.lock:
            faults = self._faults.setdefault(method.lower(), [])
            faults.extend(_Fault(status, error, retry_after, delay) for _ in range(times))

    def take_fault(self, method: str) -> tuple[float, SlackError | None]:
        """Pop the method's next fault: (delay seconds, error to answer or None)."""
        with self.lock:
            faults = self._faults.get(method.lower())
            if not faults:
                return 0.0, None
            fault = faults.pop(0)
            if fault.status == 0:
                return fault.delay, None
            if fault.status == 429:
                self.too_many_requests += 1
            return fault.delay, SlackError.for_status(fault.status, fault.error, fault.retry_after)

    def set_down(self, seconds: float | None) -> None:
        """Answer 503 to everything for `seconds` (None: until set_up)."""
        with self.lock:
            self._down_until = math.inf if seconds is None else time.monotonic() + seconds

    def set_up(self) -> None:
        """End an outage started with set_down."""
        with self.lock:
            self._down_until = None

    def check_up(self) -> None:
        """Raise the 503 of an ongoing outage."""
        with self.lock:
            if self._down_until is not None and time.monotonic() < self._down_until:
                raise SlackError.for_status(503)

    def admit(self, method: str, channel: str | None) -> None:
        """Raise the 429 Slack would answer before doing anything for the call."""
        with self.lock:
            if self._limiter is None:
                return
            retry_after = self._limiter.check(method, channel, time.monotonic())
            if retry_after is not None:
                self.too_many_requests += 1
                raise SlackError.for_status(429, retry_after=retry_after)
