"""The Slack workspace the clinic file describes: each clinic's channel and everyone its team names."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.clinic_config import ClinicConfig
from bot.standins.slack_api import FakeSlackApi


@dataclass(frozen=True)
class Clinician:
    """A member of a clinic's Slack team, as the page's picker shows them."""

    slack_id: str
    name: str
    role: str
    clinic: str
    handle: str


@dataclass(frozen=True)
class Channel:
    """A clinic's behavioral health channel."""

    id: str
    name: str
    clinic: str
    clinic_name: str


def handle_for(name: str, slack_id: str) -> str:
    """Return a Slack-style handle from a display name ('Dana Ortiz, LCSW' -> 'dana.ortiz')."""
    words = re.findall(r"[a-z0-9]+", name.split(",")[0].lower())
    return ".".join(words[:2]) or slack_id.lower()


def channels(config: ClinicConfig) -> list[Channel]:
    """Return the channel of every clinic with a Slack team, in the clinic file's order."""
    return [Channel(c.slack.channel, f"{c.slug}-bh", c.slug, c.name) for c in config.clinics if c.slack is not None]


def clinicians(config: ClinicConfig) -> list[Clinician]:
    """Return everyone the clinic file names in a Slack team: staff, care managers, after-hours and shift ids."""
    found: dict[str, Clinician] = {}
    for clinic in config.clinics:
        team = clinic.slack
        if team is None:
            continue
        for staff in team.staff:
            found.setdefault(staff.slack_id, Clinician(staff.slack_id, staff.name, staff.role, clinic.slug,
                                                       handle_for(staff.name, staff.slack_id)))
        named = [team.care_manager, team.after_hours] + [i for s in team.shifts for i in (s.primary, s.backup)]
        for slack_id in named:
            if slack_id and slack_id not in found:
                found[slack_id] = Clinician(slack_id, slack_id, "bh", clinic.slug, slack_id.lower())
    return list(found.values())


def first_on_duty(config: ClinicConfig) -> str | None:
    """Return the first shift's primary of the first clinic with shifts, else the first clinician, else None."""
    for clinic in config.clinics:
        if clinic.slack is not None and clinic.slack.shifts:
            return clinic.slack.shifts[0].primary
    everyone = clinicians(config)
    return everyone[0].slack_id if everyone else None


def build_workspace(slack: FakeSlackApi, config: ClinicConfig) -> None:
    """Create the clinic file's channels and people in the Slack stand-in."""
    zones = {c.slug: c.timezone for c in config.clinics}
    for channel in channels(config):
        slack.add_channel(channel.id, channel.name)
    for person in clinicians(config):
        slack.add_user(person.slack_id, person.handle, real_name=person.name, tz=zones[person.clinic])
