"""Measurement-based care in the clinic file: check-in schedule, quiet hours, and the registry's thresholds."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CheckIn(_Strict):
    """One repeated measure: which instrument, how often, and for whom."""

    instrument: str
    every_days: Annotated[float, Field(gt=0)] = 14
    when: Literal["always", "intake_positive"] = "always"  # intake_positive: its intake result was positive


class QuietHours(_Strict):
    """The hours in the clinic's time zone when no scheduled message is sent (an overnight span)."""

    start: time = time(21, 0)
    end: time = time(8, 0)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock_time(cls, value: object) -> object:
        return time.fromisoformat(value) if isinstance(value, str) else value

    def covers(self, local: datetime) -> bool:
        """Say whether a local moment falls in the quiet hours."""
        now = local.time()
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= now < self.end
        return now >= self.start or now < self.end

    def next_allowed(self, moment: datetime, timezone: str) -> datetime:
        """Return the moment itself, or the end of the quiet hours it falls in."""
        local = moment.astimezone(ZoneInfo(timezone))
        if not self.covers(local):
            return moment
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(moment.tzinfo)


class Care(_Strict):
    """How the team follows patients in care, and when the registry flags one."""

    checkins: list[CheckIn] = [CheckIn(instrument="phq9"), CheckIn(instrument="gad7", when="intake_positive")]
    quiet_hours: QuietHours = QuietHours()
    not_improving_weeks: Annotated[float, Field(gt=0)] = 10  # no response by then: psychiatric case review
    response_drop: Annotated[float, Field(gt=0, le=1)] = 0.5  # response: the score fell by at least this share
    remission_below: dict[str, int] = {"phq9": 5, "gad7": 5}
    minimal_change: dict[str, int] = {"phq9": 5, "gad7": 4}  # the minimal important change in points
    overdue_after_days: Annotated[float, Field(ge=0)] = 3  # a check-in not done this long after it was due
    outcome_weeks: tuple[float, float] = (8, 16)  # the window the report's response and remission rates use

    def checkin(self, instrument: str) -> CheckIn | None:
        """Return the check-in schedule of an instrument."""
        return next((c for c in self.checkins if c.instrument == instrument), None)
