"""A token bucket, the shape of the platforms' rate limits."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TokenBucket:
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
