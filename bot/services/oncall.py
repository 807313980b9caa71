"""Who is on duty: the clinic file's shifts, overridden by cover clinicians took or were handed in Slack."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clinic_config import Clinic
from bot.services.ports import Cover
from bot.team_config import Rung, Shift, SlackTeam

ROLES = ("primary", "backup")
NO_SHIFTS_COVER = timedelta(hours=12)  # how long /oncall take lasts when the clinic file has no shifts


@dataclass(frozen=True)
class OnDuty:
    """Who answers pages now, and until when this holds."""

    primary: str | None
    backup: str | None
    until: datetime | None  # the end of the shift on, or the start of the next one
    shift: Shift | None
    covered: tuple[str, ...] = ()  # the roles someone covers instead of the shift's person

    def holder(self, role: str) -> str | None:
        """Return who holds a role now."""
        return self.primary if role == "primary" else self.backup


def on_duty(team: SlackTeam, timezone: str, now: datetime, covers: list[Cover]) -> OnDuty:
    """Combine the shift on now with the covers in force (the latest cover of a role wins)."""
    shift = team.on_duty(now, timezone)
    if shift is not None:
        until = shift.ends_after(now.astimezone(ZoneInfo(timezone)))
    else:
        until = team.next_shift_start(now, timezone)
    people = {"primary": shift.primary if shift else None, "backup": shift.backup if shift else None}
    covered = []
    for role in ROLES:
        cover = next((c for c in covers if c.role == role), None)
        if cover is not None:
            people[role] = cover.slack_id
            covered.append(role)
    return OnDuty(people["primary"], people["backup"], until, shift, tuple(covered))


def cover_until(duty: OnDuty, now: datetime) -> datetime:
    """Return when a cover taken now ends: with the shift, at the next shift's start, or after 12 hours."""
    return duty.until if duty.until is not None and duty.until > now else now + NO_SHIFTS_COVER


def target(team: SlackTeam, rung: Rung, duty: OnDuty) -> str | None:
    """Return whom a rung calls: a Slack user id, 'channel', or None when it names nobody."""
    if rung.notify == "channel":
        return "channel"
    if rung.notify in ("care_manager", "after_hours"):
        return getattr(team, rung.notify)
    who = duty.holder(rung.notify)
    if who:
        return who
    nobody_on = duty.primary is None and duty.backup is None
    return (team.after_hours if nobody_on else None) or "channel"


def duty_now(uow, clinic: Clinic, now: datetime) -> OnDuty | None:
    """Return who is on duty now at a clinic with a Slack team, reading its covers in this transaction."""
    if clinic.slack is None:
        return None
    return on_duty(clinic.slack, clinic.timezone, now, uow.oncall.covers(clinic.slug, now))
