"""Check-ins: care starts at acceptance, PHQ-9 comes back every 14 days, outside quiet hours, never to the stopped."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.domain.effects import CHECKIN
from bot.services.timers import fire_due_timers
from bot.store.tables import HANDOFF, PATIENT, SCORE, SCREENING, TIMER
from tests.integration.test_handoffs import press, slack_rows

# The fixture clinic "team" is in America/Chicago; the clock starts Tuesday 2026-11-24 15:00 UTC (09:00 there).
# Typed answers are option numbers: "1" is "Not at all" (0 points) ... "4" is "Nearly every day" (3 points).
INTAKE_OFFERED = ["I agree", "3", "3", "2", "2", "2", "2", "2", "2", "1", "1"]  # PHQ-9 10 (+ difficulty): offered
PHQ9_MODERATE = ["3", "3", "3", "3", "2", "2", "2", "2", "1", "1"]  # total 12, item 9 "Not at all", difficulty


def in_care(patient_chat):
    """Return a chat that took the offer to talk to the team and whose page was accepted (care starts)."""
    chat = patient_chat("team")
    chat.start()
    for text in INTAKE_OFFERED:
        chat.type(text)
    chat.type("1")  # "Connect me now"
    press(chat.services, "U0BEN", slack_rows(chat.services, "page")[0].ref)
    chat.deliver()
    return chat


def pending_checkins(services) -> list[tuple[str, datetime]]:
    with services.store.engine.connect() as conn:
        rows = conn.execute(select(TIMER.c.kind, TIMER.c.due_at).where(
            TIMER.c.kind.like("checkin:%"), TIMER.c.fired_at.is_(None), TIMER.c.cancelled.is_(False))).all()
    return [(kind, due if due.tzinfo else due.replace(tzinfo=UTC)) for kind, due in rows]


def test_acceptance_starts_care_and_schedules_phq9_in_14_days_but_not_gad7_without_a_positive_intake(
        patient_chat, clock):
    chat = in_care(patient_chat)
    with chat.services.store.engine.connect() as conn:
        started = conn.execute(select(PATIENT.c.care_started_at)).scalar_one()
    assert started.replace(tzinfo=UTC) == clock.moment
    assert pending_checkins(chat.services) == [("checkin:phq9", datetime(2026, 12, 8, 15, 0, tzinfo=UTC))]


def test_a_due_check_in_asks_phq9_at_the_lowest_priority_and_schedules_the_next(patient_chat, clock):
    chat = in_care(patient_chat)
    clock.advance(days=14)
    assert fire_due_timers(chat.services) == 1
    queued = chat.services.store.pending_messages("patient", "console", chat.chat_id)
    assert {row.priority for row in queued} == {CHECKIN}
    intro, question = chat.deliver()
    assert intro["text"].startswith("Time for your regular check-in")
    assert "1/9" in question["text"] or question["buttons"]
    assert pending_checkins(chat.services) == [("checkin:phq9", datetime(2026, 12, 22, 15, 0, tzinfo=UTC))]


def test_a_completed_check_in_is_scored_without_offering_the_team_again(patient_chat, clock):
    chat = in_care(patient_chat)
    clock.advance(days=14)
    fire_due_timers(chat.services)
    chat.deliver()
    for answer in PHQ9_MODERATE:
        replies = chat.type(answer)
    assert replies[-1]["text"].startswith("That's all for now")
    assert all(not message.get("buttons") for message in replies)  # no offer to talk to the team again
    with chat.services.store.engine.connect() as conn:
        scores = conn.execute(select(SCORE.c.instrument, SCORE.c.total, SCREENING.c.trigger).join(
            SCREENING, SCREENING.c.id == SCORE.c.screening_id).order_by(SCORE.c.id)).all()
    assert scores[-1] == ("phq9", 12, "checkin")
    assert len(slack_rows(chat.services, "page")) == 1  # a PHQ-9 of 12 in care pages nobody


def test_a_check_in_due_in_quiet_hours_waits_until_8_in_the_clinics_time_zone(patient_chat, clock):
    clock.moment = datetime(2026, 11, 25, 3, 30, tzinfo=UTC)  # 21:30 in Chicago
    chat = in_care(patient_chat)
    [(kind, due)] = pending_checkins(chat.services)
    assert due == datetime(2026, 12, 9, 14, 0, tzinfo=UTC)  # 08:00 in Chicago, the morning after day 14


def test_a_check_in_due_while_another_screening_is_open_waits_a_day(patient_chat, clock):
    chat = in_care(patient_chat)
    clock.advance(days=14)
    fire_due_timers(chat.services)
    chat.type("2")  # the check-in's first question is answered; the screening stays open
    clock.advance(hours=1)
    with chat.services.store.engine.begin() as conn:  # e.g. a second instrument's check-in falls due now
        conn.execute(TIMER.update().where(TIMER.c.kind == "checkin:phq9", TIMER.c.fired_at.is_(None))
                     .values(due_at=clock.moment))
    chat.deliver()
    assert fire_due_timers(chat.services) == 1
    assert chat.deliver() == []  # nothing sent: the open screening is not interrupted
    assert pending_checkins(chat.services) == [("checkin:phq9", datetime(2026, 12, 9, 16, 0, tzinfo=UTC))]
    with chat.services.store.engine.connect() as conn:
        checkins = conn.execute(select(SCREENING.c.status).where(SCREENING.c.trigger == "checkin")).scalars().all()
    assert checkins == ["open"]


def test_a_patient_who_stopped_gets_no_check_in_and_the_schedule_ends(patient_chat, clock):
    chat = in_care(patient_chat)
    chat.type("stop")
    chat.type("1")  # yes, stop
    chat.deliver()
    clock.advance(days=14)
    fire_due_timers(chat.services)
    assert chat.deliver() == []
    assert pending_checkins(chat.services) == []


def test_a_suicide_risk_answer_in_a_check_in_still_starts_the_crisis_protocol_and_pages(patient_chat, clock):
    chat = in_care(patient_chat)
    clock.advance(days=14)
    fire_due_timers(chat.services)
    chat.deliver()
    replies = []
    for answer in ["2", "2", "2", "2", "2", "2", "2", "2", "3"]:  # item 9: "More than half the days"
        replies += chat.type(answer)
    assert any("988" in message["text"] for message in replies)
    pages = slack_rows(chat.services, "page")
    assert len(pages) == 2 and {page.payload["urgency"] for page in pages} == {"routine", "urgent"}


def test_a_handoff_from_an_accepted_offer_is_linked_to_the_screening_that_offered_it(patient_chat):
    chat = in_care(patient_chat)
    with chat.services.store.engine.connect() as conn:
        linked = conn.execute(select(HANDOFF.c.screening_id)).scalar_one()
        intake = conn.execute(select(SCREENING.c.id).where(SCREENING.c.trigger == "intake")).scalar_one()
    assert linked == intake


def test_after_a_suicide_risk_answer_the_closing_words_say_the_team_will_reach_out_not_that_all_is_well(
        patient_chat, clock):
    chat = in_care(patient_chat)
    clock.advance(days=14)
    fire_due_timers(chat.services)
    chat.deliver()
    replies = []
    for answer in ["2", "2", "1", "1", "1", "1", "1", "1", "2", "2", "1"]:  # total 3, item 9 "Several days"; no; difficulty
        replies += chat.type(answer)
    [results] = [m["text"] for m in replies if m["text"].startswith("Thank you for answering all the questions")]
    assert "someone will reach out to you" in results
    assert "do not point to anything" not in results
