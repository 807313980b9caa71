"""The sandbox's clinic clock: real time plus an offset that starts at a clinic morning and only moves forward."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clinic_config import Clinic

MORNING = timedelta(hours=1)  # the day starts this long into the first shift (at most half of it)
NO_SHIFT_START = timedelta(hours=9)  # a clinic without shifts starts its day at 09:00


def real_now() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


def clinic_day_start(clinic: Clinic, now: datetime) -> datetime:
    """Return a morning moment of the clinic's first day on duty from today on, in UTC."""
    zone = ZoneInfo(clinic.timezone)
    midnight = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    shifts = clinic.slack.shifts if clinic.slack is not None else []
    if not shifts:
        return (midnight + NO_SHIFT_START).astimezone(UTC)
    starts = [(shift.starts_after(midnight - timedelta(microseconds=1)), shift) for shift in shifts]
    start, shift = min(starts, key=lambda pair: pair[0])
    day = start.date()
    length = (datetime.combine(day, shift.end) - datetime.combine(day, shift.start)) % timedelta(days=1)
    return (start + min(MORNING, (length or timedelta(days=1)) / 2)).astimezone(UTC)


class ShiftableClock:
    """Tell CareBridge the time: real time plus an offset the trainer can increase (never decrease)."""

    def __init__(self, start: datetime | None = None, now: Callable[[], datetime] = real_now) -> None:
        """Start at `start` (default: the real time) and run at the pace of real time from there."""
        self._now = now
        self._lock = threading.Lock()
        self._offset = (start - now()) if start is not None else timedelta(0)
        self._advanced = timedelta(0)

    def __call__(self) -> datetime:
        """Return the clinic's current time, aware and in UTC."""
        with self._lock:
            return self._now() + self._offset

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by delta and return the new time."""
        if delta <= timedelta(0):
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._offset += delta
            self._advanced += delta
        return self()

    @property
    def advanced(self) -> timedelta:
        """Return how far the trainer has moved the clock forward in total."""
        with self._lock:
            return self._advanced
