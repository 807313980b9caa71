"""The care team in the clinic file: Slack channel, staff, shifts, and the escalation ladder of a page."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SlackId = Annotated[str, Field(pattern=r"^[UW][A-Z0-9]{2,}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Staff(_Strict):
    slack_id: SlackId
    name: str  # the display name patients are told ("Dana Ortiz, LCSW")
    role: Literal["bh", "pcp", "care_manager"]


class Shift(_Strict):
    days: Annotated[list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]], Field(min_length=1)]
    start: time
    end: time
    primary: SlackId
    backup: SlackId | None = None

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock_time(cls, value: object) -> object:
        return time.fromisoformat(value) if isinstance(value, str) else value

    def covers(self, moment: datetime) -> bool:
        """Say whether the shift is on at a local moment (an overnight shift runs past midnight)."""
        day, now = DAYS[moment.weekday()], moment.time()
        if self.start < self.end:
            return day in self.days and self.start <= now < self.end
        yesterday = DAYS[(moment - timedelta(days=1)).weekday()]
        return (day in self.days and now >= self.start) or (yesterday in self.days and now < self.end)

    def ends_after(self, moment: datetime) -> datetime:
        """Return when the shift that covers a local moment ends."""
        end = moment.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        return end if end > moment else end + timedelta(days=1)

    def starts_after(self, moment: datetime) -> datetime:
        """Return the next local moment after `moment` at which this shift starts."""
        start = moment.replace(hour=self.start.hour, minute=self.start.minute, second=0, microsecond=0)
        for days in range(8):
            candidate = start + timedelta(days=days)
            if candidate > moment and DAYS[candidate.weekday()] in self.days:
                return candidate
        raise ValueError("a shift has at least one day")


class SlackTeam(_Strict):
    """A clinic's behavioral health channel and who answers it."""

    channel: Annotated[str, Field(pattern=r"^[CG][A-Z0-9]{2,}$")]
    staff: list[Staff] = []
    shifts: list[Shift] = []
    care_manager: SlackId | None = None
    after_hours: SlackId | None = None  # who gets crisis pages when no shift is on
    video_link: str | None = None

    @model_validator(mode="after")
    def _people_are_staff(self) -> SlackTeam:
        known = {person.slack_id for person in self.staff}
        named = [s.primary for s in self.shifts] + [s.backup for s in self.shifts if s.backup]
        named += [p for p in (self.care_manager, self.after_hours) if p]
        missing = sorted(set(named) - known)
        if missing:
            raise ValueError(f"not in staff: {', '.join(missing)}")
        return self

    def person(self, slack_id: str) -> Staff | None:
        """Return the staff member with this Slack id."""
        return next((p for p in self.staff if p.slack_id == slack_id), None)

    def on_duty(self, moment: datetime, timezone: str) -> Shift | None:
        """Return the shift on at this moment in the clinic's time zone, if any."""
        local = moment.astimezone(ZoneInfo(timezone))
        return next((shift for shift in self.shifts if shift.covers(local)), None)

    def next_shift_start(self, moment: datetime, timezone: str) -> datetime | None:
        """Return when the next shift starts after a moment, in the clinic's time zone; None without shifts."""
        local = moment.astimezone(ZoneInfo(timezone))
        return min((shift.starts_after(local) for shift in self.shifts), default=None)

    def may_answer_pages(self, slack_id: str) -> bool:
        """Say whether this person is on the behavioral health roster (may accept or decline)."""
        person = self.person(slack_id)
        return person is not None and person.role in ("bh", "care_manager")


class Rung(_Strict):
    notify: Literal["primary", "backup", "channel", "care_manager", "after_hours"]
    wait_minutes: Annotated[float, Field(gt=0)] | None = None  # until the next rung; the last rung has none
    tell_patient: Literal["team_will_call", "crisis_resources"] | None = None


class Escalation(_Strict):
    """The ladder a page climbs while nobody accepts it, per urgency."""

    routine: list[Rung] = [
        Rung(notify="primary", wait_minutes=10), Rung(notify="backup", wait_minutes=10),
        Rung(notify="channel", wait_minutes=15), Rung(notify="care_manager", tell_patient="team_will_call"),
    ]
    urgent: list[Rung] = [
        Rung(notify="primary", wait_minutes=2), Rung(notify="backup", wait_minutes=2),
        Rung(notify="channel", tell_patient="crisis_resources"),
    ]
    crisis: list[Rung] | None = None  # default: the urgent ladder

    @model_validator(mode="after")
    def _ladders_end(self) -> Escalation:
        for name in ("routine", "urgent", "crisis"):
            ladder = getattr(self, name)
            if ladder is None:
                continue
            if not ladder:
                raise ValueError(f"{name}: a ladder needs at least one rung")
            if any(rung.wait_minutes is None for rung in ladder[:-1]):
                raise ValueError(f"{name}: every rung but the last needs wait_minutes")
        return self

    def ladder(self, urgency: str) -> list[Rung]:
        """Return the rungs for an urgency."""
        if urgency == "crisis":
            return self.crisis or self.urgent
        return self.urgent if urgency == "urgent" else self.routine
