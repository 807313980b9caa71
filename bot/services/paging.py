"""Compose what the care team sees of a handoff: the page, its updates, and who a rung of the ladder calls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clinic_config import Clinic
from bot.services.oncall import OnDuty, target
from bot.team_config import Escalation, SlackTeam

PAGE_BUTTONS = ({"action": "accept", "style": "primary"}, {"action": "decline", "style": "danger"})
PROGRESS_BUTTONS = ({"action": "contact_made", "style": "primary"}, {"action": "scheduled", "style": None},
                    {"action": "closed", "style": None})


@dataclass(frozen=True)
class PageFacts:
    """What a page says about a handoff (the patient appears by pseudonymous code unless the clinic allows PHI)."""

    ref: str
    urgency: str
    reason: str
    patient: str
    created_at: datetime
    callback: bool = False
    requested_by: str | None = None
    in_room: bool = False
    note: str | None = None  # the PCP's note on a consult
    external_ref: str | None = None  # the clinic's MRN: shown only where the clinic file allows PHI in Slack


def mention(who: str | None) -> str | None:
    """Return the Slack mention of a target."""
    if who is None:
        return None
    return "<!channel>" if who == "channel" else f"<@{who}>"


def waited(since: datetime, now: datetime) -> str:
    """Return a waiting time as '2 min 13 s'."""
    seconds = max(0, int((now - since).total_seconds()))
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


class PageComposer:
    """Render page payloads with the clinician-facing templates (English, messages/en/team/)."""

    def __init__(self, render):
        self.render = render  # render(template_name, **variables) -> str

    def buttons(self, actions) -> list[dict]:
        """Return buttons with their labels."""
        return [{**action, "label": self.render("team/label", action=action["action"])} for action in actions]

    def page(self, facts: PageFacts, clinic: Clinic, team: SlackTeam, who: str | None) -> dict:
        """Return the payload of the page message."""
        since = facts.created_at.astimezone(ZoneInfo(clinic.timezone)).strftime("%H:%M")
        lines = self.render("team/page", urgency=facts.urgency, patient=facts.patient, clinic_name=clinic.name,
                            reason=facts.reason, callback=facts.callback, requested_by=facts.requested_by,
                            since=since, in_room=facts.in_room, note=facts.note,
                            mrn=facts.external_ref if clinic.phi_in_slack else None).splitlines()
        return {"channel": team.channel, "handoff": facts.ref, "urgency": facts.urgency, "patient_code": facts.patient,
                "text": " · ".join(line for line in lines[:2] if line), "lines": [line for line in lines if line],
                "mention": who, "buttons": self.buttons(PAGE_BUTTONS)}

    def accepted(self, page: dict, user: str, since: datetime, now: datetime, status: str) -> dict:
        """Return the page as it reads once accepted: who took it, after how long, and the progress buttons."""
        note = self.render("team/accepted", user=user, waited=waited(since, now), status=status)
        buttons = [] if status == "closed" else self.buttons(PROGRESS_BUTTONS)
        return {**page, "mention": None, "lines": page["lines"] + [note], "buttons": buttons}

    def note(self, template: str, **variables) -> str:
        """Return a clinician-facing note."""
        return self.render(f"team/{template}", **variables)


def first_page(presenter, escalation: Escalation, clinic: Clinic, facts: PageFacts, duty: OnDuty) -> dict:
    """Render a new page for the clinic's channel: payload, recipient, and when its first rung runs out."""
    team = clinic.slack
    first = escalation.ladder(facts.urgency)[0]
    payload = PageComposer(presenter.team).page(facts, clinic, team, target(team, first, duty))
    payload["text"] = presenter.page({"urgency": facts.urgency, "patient_code": facts.patient,
                                      "clinic_name": clinic.name, "reason": facts.reason, "callback": facts.callback})
    escalate_at = facts.created_at + timedelta(minutes=first.wait_minutes) if first.wait_minutes else None
    return {"payload": payload, "recipient": team.channel, "escalate_at": escalate_at}
