"""Handoffs: the page names who is on duty, is accepted exactly once, climbs its ladder on time, tells the patient."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from bot.domain.events import ClinicianAction
from bot.services.handoffs import act_on_handoff
from bot.services.timers import fire_due_timers
from bot.store.tables import AUDIT, HANDOFF

CHANNEL = "C0TEAMBH"
ITEM9_POSITIVE = ["I agree", "3", "3", "2", "2", "2", "2", "2", "1", "2"]  # PHQ-2 then PHQ-9 with item 9 = 2


def paged_patient(patient_chat, clinic: str = "team"):
    """Return a patient chat whose PHQ-9 item 9 answer paged the team (urgent)."""
    chat = patient_chat(clinic)
    chat.start()
    for text in ITEM9_POSITIVE:
        chat.type(text)
    chat.deliver()
    return chat


def slack_rows(services, kind: str | None = None):
    rows = services.store.pending_messages("clinic", "slack")
    return [row for row in rows if kind is None or row.kind == kind]


def press(services, user: str, ref: str, action: str = "accept", key: str | None = None, outcome=None):
    return act_on_handoff(services, ClinicianAction(key or f"k:{user}:{action}", user, ref, action, outcome))


def test_the_page_goes_to_the_clinics_channel_naming_the_primary_on_duty_with_accept_and_decline(patient_chat):
    chat = paged_patient(patient_chat)
    [page] = slack_rows(chat.services, "page")
    assert page.recipient == CHANNEL and page.payload["channel"] == CHANNEL
    assert page.payload["mention"] == "U0DANA" and page.payload["urgency"] == "urgent"
    assert [b["action"] for b in page.payload["buttons"]] == ["accept", "decline"]
    assert page.payload["buttons"][1]["label"] == "Can't take it"
    text = "\n".join(page.payload["lines"])
    assert "P-" in text and "Team Clinic" in text and "URGENT" in text
    assert page.ref == page.payload["handoff"]


def test_accepted_exactly_once_under_concurrent_presses(patient_chat):
    chat = paged_patient(patient_chat)
    services = chat.services
    ref = slack_rows(services, "page")[0].ref
    users = ["U0DANA", "U0BEN", "U0NIGHT", "U0CARE"] * 3
    with ThreadPoolExecutor(max_workers=6) as pool:
        replies = list(pool.map(lambda i: press(services, users[i], ref, key=f"press-{i}"), range(len(users))))
    winners = [r for r in replies if r.status == "applied"]
    assert len(winners) == 1
    with services.store.engine.connect() as conn:
        accepted_by = conn.execute(select(HANDOFF.c.accepted_by)).scalar_one()
        accepts = conn.execute(select(AUDIT).where(AUDIT.c.action == "handoff_accepted")).all()
    assert len(accepts) == 1
    assert all(r.status == "taken" and f"<@{accepted_by}>" in r.note for r in replies if r.status != "applied")
    [update] = slack_rows(services, "page_update")
    assert update.payload["buttons"] and update.payload["buttons"][0]["action"] == "contact_made"
    assert f"Accepted by <@{accepted_by}> after" in update.payload["lines"][-1]


def test_acceptance_tells_the_patient_who_will_contact_them_and_a_redelivered_press_changes_nothing(patient_chat):
    chat = paged_patient(patient_chat)
    ref = slack_rows(chat.services, "page")[0].ref
    first = press(chat.services, "U0BEN", ref, key="same")
    again = press(chat.services, "U0BEN", ref, key="same")
    assert (first.status, again.status) == ("applied", "duplicate")
    [message] = chat.deliver()
    assert "Ben Okafor, PhD" in message["text"] and "within the hour" in message["text"]
    assert "https://video.example.org/team" in message["text"]
    assert len(slack_rows(chat.services, "page_update")) == 1


def test_only_the_roster_may_accept_and_only_the_accepter_may_record_progress(patient_chat):
    chat = paged_patient(patient_chat)
    services = chat.services
    ref = slack_rows(services, "page")[0].ref
    refused = press(services, "U0PCP", ref)
    assert refused.status == "refused" and "roster" in refused.note
    assert press(services, "U0DANA", ref).status == "applied"
    assert press(services, "U0BEN", ref, "contact_made").status == "refused"
    assert press(services, "U0DANA", ref, "contact_made").status == "applied"
    assert press(services, "U0DANA", ref, "closed", outcome="engaged_in_care").status == "applied"
    with services.store.engine.connect() as conn:
        status, outcome = conn.execute(select(HANDOFF.c.status, HANDOFF.c.outcome)).one()
        actions = conn.execute(select(AUDIT.c.action, AUDIT.c.actor).where(AUDIT.c.action.like("handoff_%"))).all()
    assert (status, outcome) == ("closed", "engaged_in_care")
    assert ("handoff_refused", "clinician:U0PCP") in actions and ("handoff_closed", "clinician:U0DANA") in actions
    assert slack_rows(services, "page_update")[-1].payload["buttons"] == []


def test_an_unanswered_urgent_page_climbs_primary_backup_channel_on_time_and_then_stays_open(patient_chat, clock):
    chat = paged_patient(patient_chat)
    services = chat.services
    ref = slack_rows(services, "page")[0].ref
    clock.advance(minutes=1, seconds=59)
    assert fire_due_timers(services) == 0
    clock.advance(seconds=1)
    assert fire_due_timers(services) == 1
    assert "Paging <@U0BEN>" in slack_rows(services, "thread")[-1].payload["text"]
    clock.advance(minutes=2)
    assert fire_due_timers(services) == 1
    escalated, unanswered = [row.payload["text"] for row in slack_rows(services, "thread")[-2:]]
    assert escalated == "No answer after 2 min. Paging <!channel> now."
    assert "Nobody has accepted" in unanswered and "crisis resources" in unanswered
    resent = chat.deliver()
    assert any("988" in message["text"] for message in resent)  # the crisis resources again, to the patient
    clock.advance(hours=1)
    assert fire_due_timers(services) == 0  # the last rung has no timer; the page stays open to accept
    assert press(services, "U0NIGHT", ref).status == "applied"


def test_a_decline_moves_to_the_next_rung_at_once_and_acceptance_stops_the_ladder(patient_chat, clock):
    chat = paged_patient(patient_chat)
    services = chat.services
    ref = slack_rows(services, "page")[0].ref
    assert press(services, "U0DANA", ref, "decline").status == "applied"
    assert "<@U0DANA> can't take it. Paging <@U0BEN>" in slack_rows(services, "thread")[-1].payload["text"]
    assert press(services, "U0BEN", ref).status == "applied"
    clock.advance(hours=2)
    assert fire_due_timers(services) == 0


ROUTINE_OFFER_ACCEPTED = ["I agree", "3", "3", "2", "2", "2", "2", "2", "2", "Not at all", "somewhat difficult",
                          "Yes, connect me"]


def test_an_unanswered_routine_page_ends_with_the_care_manager_and_the_patient_told_when_the_team_will_call(
        patient_chat, clock):
    chat = patient_chat("team")
    chat.start()
    for text in ROUTINE_OFFER_ACCEPTED:
        chat.type(text)
    chat.deliver()
    services = chat.services
    [page] = slack_rows(services, "page")
    assert page.payload["urgency"] == "routine" and page.payload["mention"] == "U0DANA"
    for minutes, expected in ((10, "Paging <@U0BEN>"), (10, "Paging <!channel>"), (15, "Paging <@U0CARE>")):
        clock.advance(minutes=minutes - 1)
        assert fire_due_timers(services) == 0
        clock.advance(minutes=1)
        assert fire_due_timers(services) == 1
        assert expected in [row.payload["text"] for row in slack_rows(services, "thread")][-2 if minutes == 15 else -1]
    [dm] = slack_rows(services, "dm")
    assert dm.payload["user"] == "U0CARE" and page.payload["patient_code"] in dm.payload["text"]
    [told] = chat.deliver()
    assert "within one business day" in told["text"]


def test_the_patient_can_ask_to_be_called_later_and_the_accepter_hears_it_in_the_thread(patient_chat):
    chat = paged_patient(patient_chat)
    ref = slack_rows(chat.services, "page")[0].ref
    press(chat.services, "U0BEN", ref)
    [told] = chat.deliver()
    [button] = told["buttons"]
    assert button["data"] == f"h:{ref}:later" and button["text"] == "Call me later"
    assert "told the clinician" in chat.press(button["data"])[0]["text"]
    chat.press(button["data"])  # a second press says so again and adds nothing for the team
    notes = [row for row in slack_rows(chat.services, "thread") if "called later" in row.payload["text"]]
    assert [row.payload["text"] for row in notes] == ["<@U0BEN>: the patient asks to be called later."]
    assert notes[0].ref == ref
    with chat.services.store.engine.connect() as conn:
        assert conn.execute(select(HANDOFF.c.callback_requested)).scalar_one() is True


def test_a_call_later_press_for_someone_elses_handoff_changes_nothing(patient_chat, make_services):
    services = make_services()
    chat = paged_patient(lambda clinic: patient_chat(clinic, services=services))
    ref = slack_rows(services, "page")[0].ref
    other = patient_chat("team", chat_id="chat-2", services=services)
    other.press(f"h:{ref}:later")
    assert not [row for row in slack_rows(services, "thread") if "called later" in row.payload["text"]]
    with services.store.engine.connect() as conn:
        assert conn.execute(select(HANDOFF.c.callback_requested)).scalar_one() is False
    assert chat is not None
