"""Clinicians act on handoffs: accept exactly once, decline to the next rung, record contact and outcome."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from bot.domain.effects import CRISIS, REPLY, Choice, Say
from bot.domain.events import ClinicianAction
from bot.services.checkins import start_care
from bot.services.handle import Services
from bot.services.oncall import duty_now, target
from bot.services.paging import PageComposer, PageFacts, mention, waited
from bot.services.ports import HandoffRecord, OutboundMessage

ACTIONS = ("accept", "decline", "contact_made", "scheduled", "closed")
# How a handoff ended, for the engagement figures; the words are in messages/en/team/outcome.j2.
OUTCOMES = ("engaged_in_care", "referred_out", "declined_services", "unreachable", "no_need", "other")
PROGRESS = {"contact_made": ("accepted",), "scheduled": ("accepted", "contact_made"),
            "closed": ("accepted", "contact_made", "scheduled")}


@dataclass(frozen=True)
class ClinicianReply:
    """How a clinician's action went, the note only they see (already in words), and the messages it queued."""

    status: str  # applied | duplicate | refused | taken | unknown
    note: str | None = None
    queued: tuple[OutboundMessage, ...] | None = ()


def act_on_handoff(services: Services, action: ClinicianAction) -> ClinicianReply:
    """Apply a clinician's press on a handoff exactly once, in one transaction."""
    now = services.now()
    with services.store.unit_of_work() as uow:
        if not uow.claim_event(action.key, now):
            return ClinicianReply("duplicate")
        handoffs = uow.handoffs
        handoff = handoffs.get(ref=action.handoff_ref)
        if handoff is None or action.action not in ACTIONS:
            uow.commit()
            return ClinicianReply("unknown")
        desk = _Desk(services, uow, handoff, now)
        reply = desk.act(action)
        uow.commit()
    return replace(reply, queued=tuple(desk.queued))


def page_facts(services: Services, handoff: HandoffRecord) -> PageFacts:
    """Return what the page shows of a handoff."""
    return PageFacts(handoff.ref, handoff.urgency, handoff.reason, handoff.patient_code, handoff.created_at,
                     handoff.callback_requested, handoff.requested_by, handoff.in_room, handoff.note,
                     handoff.external_ref)


class _Desk:
    """One transaction's work on one handoff."""

    def __init__(self, services: Services, uow, handoff: HandoffRecord, now):
        self.services, self.uow, self.handoff, self.now = services, uow, handoff, now
        self.handoffs = uow.handoffs
        self.clinic = services.flow.clinic(handoff.clinic)
        self.team = self.clinic.slack
        self.composer = PageComposer(services.presenter.team)
        self.queued: list[OutboundMessage] = []

    def act(self, action: ClinicianAction) -> ClinicianReply:
        """Decide and record one press."""
        user, handoff = action.user_id, self.handoff
        if self.team is None or not self.team.may_answer_pages(user):
            self.handoffs.audit(handoff, f"clinician:{user}", "handoff_refused", self.now, pressed=action.action)
            return ClinicianReply("refused", self.composer.note("not_on_roster"))
        if action.action in ("accept", "decline") and handoff.status != "open":
            note = ("already_accepted", {"user": handoff.accepted_by}) if handoff.accepted_by else (
                "not_open", {"status": handoff.status})
            return ClinicianReply("taken", self.composer.note(note[0], **note[1]))
        if action.action == "accept":
            return self.accept(user)
        if action.action == "decline":
            return self.decline(user)
        if handoff.accepted_by != user:
            return ClinicianReply("refused", self.composer.note("only_accepter", user=handoff.accepted_by))
        if handoff.status not in PROGRESS[action.action]:
            return ClinicianReply("taken", self.composer.note("not_open", status=handoff.status))
        outcome = action.outcome if action.action == "closed" else None
        if action.action == "closed" and outcome not in OUTCOMES:
            return ClinicianReply("refused", self.composer.note("outcome_needed"))
        self.handoffs.move(handoff.id, self.now, status=action.action, **({"outcome": outcome} if outcome else {}))
        self.handoffs.audit(handoff, f"clinician:{user}", f"handoff_{action.action}", self.now, outcome=outcome)
        self.update_page(user, action.action)
        words = self.composer.note("outcome", outcome=outcome) if outcome else None
        self.thread(self.composer.note("progress", user=user, status=action.action, outcome=words))
        return ClinicianReply("applied", self.composer.note("done"))

    def accept(self, user: str) -> ClinicianReply:
        handoff = self.handoff
        if not self.handoffs.accept(handoff.id, user, self.now):
            current = self.handoffs.get(handoff_id=handoff.id)
            return ClinicianReply("taken", self.composer.note("already_accepted", user=current.accepted_by))
        self.handoffs.escalate_at(handoff, None)
        start_care(self.uow, self.services.flow.config, self.clinic, handoff.patient_id, f"clinician:{user}", self.now)
        self.handoffs.audit(handoff, f"clinician:{user}", "handoff_accepted", self.now,
                            waited_seconds=int((self.now - handoff.created_at).total_seconds()))
        self.update_page(user, "accepted")
        self.tell_requester("accepted", user=user, waited=waited(handoff.created_at, self.now))
        person = self.team.person(user)
        self.tell_patient("handoff_accepted", clinician=person.name if person else user,
                          urgent=handoff.urgency != "routine", video_link=self.team.video_link,
                          choices=(Choice(data=f"h:{handoff.ref}:later", word="call_later"),))
        return ClinicianReply("applied", None)

    def decline(self, user: str) -> ClinicianReply:
        self.handoffs.audit(self.handoff, f"clinician:{user}", "handoff_declined", self.now, rung=self.handoff.rung)
        climbed = self.climb()
        if climbed:
            self.thread(self.composer.note("declined", user=user, target=mention(climbed[0])))
            self.tell_requester_climbed(*climbed)
        return ClinicianReply("applied", self.composer.note("done"))

    def escalate(self) -> None:
        """Move an unanswered page to the next rung (the escalation timer fired)."""
        ladder = self.services.flow.config.escalation.ladder(self.handoff.urgency)
        minutes = ladder[min(self.handoff.rung, len(ladder) - 1)].wait_minutes or 0
        self.handoffs.audit(self.handoff, "system", "handoff_escalated", self.now, rung=self.handoff.rung + 1)
        climbed = self.climb()
        if climbed:
            self.thread(self.composer.note("escalated", minutes=f"{minutes:g}", target=mention(climbed[0])))
            self.tell_requester_climbed(*climbed)

    def climb(self):
        """Go one rung up and set its timer; return (whom it calls, the rung, whether it is the last) or None."""
        ladder = self.services.flow.config.escalation.ladder(self.handoff.urgency)
        rung_index = self.handoff.rung + 1
        if rung_index >= len(ladder):
            return None  # past the last rung: the page stays open for anyone to accept
        rung = ladder[rung_index]
        who = target(self.team, rung, duty_now(self.uow, self.clinic, self.now))
        last = rung_index == len(ladder) - 1
        self.handoffs.move(self.handoff.id, self.now, rung=rung_index, **({"unanswered_at": self.now} if last else {}))
        self.handoffs.escalate_at(self.handoff, None if last else self.now + timedelta(minutes=rung.wait_minutes))
        return who, rung, last

    def tell_requester_climbed(self, who, rung, last: bool) -> None:
        """Tell the PCP who asked for the consult that it climbed, then give up if that was the last rung."""
        if not last:
            self.tell_requester("escalated", target=mention(who))
        else:
            self.tell_requester("unanswered", target=mention(who), urgency=self.handoff.urgency)
        self.give_up_if_last(who, rung, last)

    def tell_requester(self, event: str, **variables) -> None:
        """DM the PCP who requested this consult, if one did."""
        requester = self.handoff.requested_by
        if requester:
            text = self.composer.note("consult_update", event=event, patient=self.handoff.patient_code, **variables)
            self.queue("slack", requester, "dm", REPLY, {"user": requester, "text": text})

    def give_up_if_last(self, who, rung, last: bool) -> None:
        """At the ladder's end: tell the last contact, and the patient how the team will reach them."""
        if not last:
            return
        handoff = self.handoff
        self.thread(self.composer.note("unanswered", urgency=handoff.urgency, target=mention(who),
                                       tell_patient=rung.tell_patient))
        if rung.notify == "care_manager" and who:
            self.queue("slack", who, "dm", REPLY, {"user": who, "text": self.composer.note(
                "care_manager", urgency=handoff.urgency, patient=handoff.patient_code, clinic_name=self.clinic.name,
                reason=handoff.reason)})
        if rung.tell_patient == "team_will_call":
            self.tell_patient("team_will_call")
        elif rung.tell_patient == "crisis_resources":
            self.tell_patient("crisis", priority=CRISIS,
                              resources=self.services.flow.crisis_resources(handoff.locale))

    def update_page(self, user: str, status: str) -> None:
        page = self.composer.page(page_facts(self.services, self.handoff), self.clinic, self.team, None)
        payload = self.composer.accepted(page, user, self.handoff.created_at, self.now, status)
        self.queue("slack", self.team.channel, "page_update", REPLY, payload, ref=self.handoff.ref)

    def thread(self, text: str) -> None:
        self.queue("slack", self.team.channel, "thread", REPLY, {"channel": self.team.channel, "text": text},
                   ref=self.handoff.ref)

    def tell_patient(self, template: str, priority: int = REPLY, choices: tuple[Choice, ...] = (), **variables) -> None:
        handoff = self.handoff
        if handoff.chat_id is None:
            return
        payload = self.services.presenter.patient_message(Say(template, variables, choices), handoff.locale)
        self.queue(handoff.platform, handoff.chat_id, template, priority, payload)

    def queue(self, platform, recipient, kind, priority, payload, ref=None) -> None:
        self.queued.append(self.handoffs.queue(self.handoff, platform, recipient, kind, priority, payload, self.now,
                                               ref=ref))


def escalate_handoff(services: Services, timer_id: int) -> ClinicianReply:
    """Fire one escalation timer: the page climbs a rung unless it was accepted meanwhile."""
    now = services.now()
    with services.store.unit_of_work() as uow:
        handoffs = uow.handoffs
        handoff_id = handoffs.fire_timer(timer_id, now)
        handoff = handoffs.get(handoff_id=handoff_id) if handoff_id is not None else None
        if handoff is None or handoff.status != "open" or services.flow.clinic(handoff.clinic).slack is None:
            uow.commit()
            return ClinicianReply("unknown")
        desk = _Desk(services, uow, handoff, now)
        desk.escalate()
        uow.commit()
    return ClinicianReply("applied", queued=tuple(desk.queued))
