"""/oncall: show who is on duty, take a role, or hand it over; every change is audited and posted."""

from __future__ import annotations

import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.clinic_config import Clinic
from bot.domain.effects import REPLY
from bot.services.handle import Services
from bot.services.oncall import ROLES, OnDuty, cover_until, duty_now
from bot.services.ports import OutboundMessage

MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
SHOW, TAKE, HANDOVER = ("", "who", "status", "now"), ("take",), ("handover", "give", "hand")


@dataclass(frozen=True)
class OnCallReply:
    """What the caller is told (only they see it) and the channel posts it queued."""

    status: str  # shown | applied | refused | duplicate | usage
    note: str | None
    queued: tuple[OutboundMessage, ...] | None = ()


@dataclass(frozen=True)
class _Request:
    verb: str
    role: str
    to: str | None
    clinic: str | None


def parse(text: str, clinic_slugs: set[str]) -> _Request | None:
    """Read '/oncall [take [role] | handover @user [role]] [clinic]'; None if it says something else."""
    words = text.split()
    verb = words[0].lower() if words else ""
    role, to, clinic = "primary", None, None
    for word in words[1:]:
        mentioned = MENTION.match(word)
        if word.lower() in ROLES:
            role = word.lower()
        elif mentioned:
            to = mentioned.group(1)
        elif word in clinic_slugs:
            clinic = word
        else:
            return None
    if verb in SHOW:
        return _Request("show", role, None, clinic)
    if verb in TAKE and to is None:
        return _Request("take", role, None, clinic)
    if verb in HANDOVER and to is not None:
        return _Request("handover", role, to, clinic)
    return None


def oncall_command(services: Services, user: str, text: str, key: str) -> OnCallReply:
    """Answer one /oncall from a Slack user, applying a take or handover exactly once."""
    render = services.presenter.team
    clinics = [c for c in services.flow.config.clinics if c.slack is not None and c.slack.person(user)]
    if not clinics:
        return OnCallReply("refused", render("team/oncall_not_staff"))
    request = parse(text, {c.slug for c in clinics})
    if request is None:
        return OnCallReply("usage", render("team/oncall_usage"))
    if request.clinic is not None:
        clinics = [c for c in clinics if c.slug == request.clinic]
    now = services.now()
    with services.store.unit_of_work() as uow:
        if request.verb == "show":
            lines = [duty_text(render, clinic, duty_now(uow, clinic, now)) for clinic in clinics]
            return OnCallReply("shown", "\n\n".join(lines))
        if len(clinics) > 1:
            return OnCallReply("usage", render("team/oncall_which_clinic", clinics=[c.slug for c in clinics]))
        if not uow.claim_event(key, now):
            return OnCallReply("duplicate", None)
        clinic = clinics[0]
        team, duty = clinic.slack, duty_now(uow, clinic, now)
        taker = user if request.verb == "take" else request.to
        refusal = _refusal(clinic, duty, user, taker, request)
        if refusal:
            uow.commit()  # the key is spent: a redelivery is a duplicate, not a second refusal
            return OnCallReply("refused", render("team/oncall_refused", reason=refusal, user=taker))
        until, was = cover_until(duty, now), duty.holder(request.role)
        other = ROLES[1 - ROLES.index(request.role)]
        swapped = other if was and duty.holder(other) == taker else None  # a trade: the two swap roles
        uow.oncall.cover(clinic.slug, request.role, taker, until, user, now)
        if swapped:
            uow.oncall.cover(clinic.slug, other, was, until, user, now)
        uow.oncall.audit(f"clinician:{user}", f"oncall_{request.verb}", now, clinic=clinic.slug, role=request.role,
                         to=taker, was=was, swapped=swapped, until=until.isoformat())
        text = render("team/oncall_changed", user=user, to=taker, role=request.role, was=was, swapped=swapped,
                      clinic_name=clinic.name, until=_local(until, clinic))
        row_id = uow.oncall.post(team.channel, text, REPLY, now)
        uow.commit()
    posted = OutboundMessage(row_id, "clinic", "slack", team.channel, "post", REPLY,
                             {"channel": team.channel, "text": text})
    return OnCallReply("applied", text, (posted,))


def _refusal(clinic: Clinic, duty: OnDuty, user: str, taker: str, request: _Request) -> str | None:
    """Return why a take or handover is refused, or None: roles go to the BH roster, handovers from the holder."""
    team = clinic.slack
    if not team.may_answer_pages(user):
        return "not_bh"
    if not team.may_answer_pages(taker):
        return "taker_not_bh"
    holder = duty.holder(request.role)
    if request.verb == "handover" and user != holder and team.care_manager != user:
        return "not_holder"
    if holder == taker:
        return "already"
    return None


def _local(moment, clinic: Clinic) -> str:
    return moment.astimezone(ZoneInfo(clinic.timezone)).strftime("%a %H:%M")


def duty_text(render, clinic: Clinic, duty: OnDuty) -> str:
    """Return one clinic's on-duty lines."""
    until = _local(duty.until, clinic) if duty.until else None
    return render("team/oncall_status", clinic_name=clinic.name, primary=duty.primary, backup=duty.backup,
                  shift=duty.shift is not None, until=until, covered=duty.covered, after_hours=clinic.slack.after_hours)
