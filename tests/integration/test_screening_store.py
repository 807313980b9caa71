"""Screenings against the real store, on SQLite and (with TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

import logging
import threading

from sqlmodel import Session, func, select

from bot.adapters.console import ConsoleChat
from bot.domain.events import PatientText, PatientUnsupported
from bot.services.handle import handle
from bot.services.timers import fire_due_timers
from bot.store import models as m


def count(services, model, *where) -> int:
    with Session(services.store.engine) as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def consent_and_answer(chat: ConsoleChat, replies: list[str]) -> list[dict]:
    chat.start()
    chat.type("I agree")
    received = []
    for reply in replies:
        received = chat.type(reply)
    return received


def test_restart_mid_screening_resumes_at_the_right_item_with_every_answer(make_services, patient_chat):
    chat = patient_chat("mood")
    consent_and_answer(chat, ["3", "3", "2", "2"])  # PHQ-2 positive, PHQ-9 items 3 and 4 answered
    chat.services.store.engine.dispose()

    restarted = ConsoleChat(make_services(), chat.chat_id)  # a new process: nothing in memory
    received = restarted.start()
    assert [m["text"].splitlines()[0] for m in received] == ["Welcome back! Let's continue where you left off.", "5 of 9"]
    for reply in ["3", "3", "3", "1", "1", "2"]:
        received = restarted.type(reply)
    assert received[-1]["text"].startswith("Would you like to talk with someone")
    with Session(restarted.services.store.engine) as session:
        scores = {s.instrument: s.total for s in session.exec(select(m.Score)).all()}
        answers = session.exec(select(func.count()).select_from(m.Answer)).one()
    assert scores == {"phq2": 4, "phq9": 2 + 2 + 1 + 1 + 2 + 2 + 2 + 0 + 0}
    assert answers == 10


def test_a_redelivered_event_changes_nothing(patient_chat):
    chat = patient_chat("mood")
    chat.start()
    chat.type("I agree")
    services = chat.services
    event = PatientText("console:redelivered-1", "console", chat.chat_id, "2")
    assert handle(services, event).status == "applied"
    answers, outbox = count(services, m.Answer), count(services, m.Outbox)
    for _ in range(3):
        assert handle(services, event).status == "duplicate"
    assert (count(services, m.Answer), count(services, m.Outbox)) == (answers, outbox)


def test_concurrent_deliveries_of_one_event_apply_once(patient_chat):
    chat = patient_chat("mood")
    chat.start()
    chat.type("I agree")
    services = chat.services
    event = PatientText("console:race-1", "console", chat.chat_id, "2")
    results = []
    threads = [threading.Thread(target=lambda: results.append(handle(services, event).status)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["applied"] + ["duplicate"] * 7
    assert count(services, m.Answer) == 1


def test_concurrent_events_of_one_chat_apply_one_at_a_time(patient_chat):
    chat = patient_chat("alcohol")
    chat.start()
    chat.type("I agree")
    services = chat.services
    replies = [PatientText(f"console:burst-{i}", "console", chat.chat_id, "3") for i in range(3)]
    threads = [threading.Thread(target=handle, args=(services, event)) for event in replies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Three answers to three different questions: none lost, none applied to the same question twice.
    with Session(services.store.engine) as session:
        items = sorted(a.item for a in session.exec(select(m.Answer)).all())
    assert items == ["q1", "q2", "q3"]
    assert count(services, m.Score) == 1


def test_bad_input_of_every_kind_changes_no_answer(patient_chat):
    chat = patient_chat("mood")
    chat.start()
    chat.type("I agree")
    services = chat.services
    other = patient_chat("mood", chat_id="chat-2", services=services)
    other.start()
    other.type("I agree")
    question_for_other = [b["data"] for b in other.type("1")[-1]["buttons"]]
    before = count(services, m.Answer)
    hostile = ["", " ", "x" * 5000, "🙂🙂🙂", "1" * 400, "-1", "99", "1; DROP TABLE answer;--", "\u202e\u202c", "\u200b"]
    for text in hostile:
        received = chat.type(text)
        assert received[-1]["text"].startswith("1 of 2"), text
    for data in question_for_other + ["a:S-0000:n00000:1", "garbage", "c::", "a:::::", ""]:
        received = chat.press(data)
        assert [r["text"] for r in received] == ["That question was already answered."], data
    handle(services, PatientUnsupported("console:sticker", "console", chat.chat_id, "sticker"))
    assert chat.deliver()[0]["text"] == "Sorry, I can only read text messages and button presses here."
    assert count(services, m.Answer) == before


def test_invisible_and_right_to_left_marks_around_a_valid_answer_are_ignored(patient_chat):
    chat = patient_chat("mood")
    consent_and_answer(chat, [])
    received = chat.type("\u202e\u200f\u200b2\u200e\u202c")
    assert received[-1]["text"].startswith("2 of 2")


def test_crisis_message_is_queued_first_with_the_answer_and_needs_no_slack(patient_chat):
    chat = patient_chat("mood")
    consent_and_answer(chat, ["3", "3", "1", "1", "1", "1", "1", "1"])
    services = chat.services
    handle(services, PatientText("console:item9", "console", chat.chat_id, "Several days"))
    pending = services.store.pending_messages("patient")
    assert [p.kind for p in pending][:2] == ["crisis", "acuity"]
    assert pending[0].payload["text"].startswith("If you are thinking about hurting yourself")
    pages = services.store.pending_messages("clinic")
    assert [(p.payload["urgency"], p.priority) for p in pages] == [("urgent", 0)]
    with Session(services.store.engine) as session:
        answer = session.exec(select(m.Answer).where(m.Answer.item == "q9")).one()
    assert answer.value == 1


def test_timers_survive_a_restart(make_services, patient_chat, clock):
    chat = patient_chat("mood")
    consent_and_answer(chat, ["1"])
    chat.services.store.engine.dispose()
    clock.advance(hours=25)
    services = make_services()
    assert fire_due_timers(services) == 1
    assert fire_due_timers(services) == 0
    received = ConsoleChat(services, chat.chat_id).deliver()
    assert received[0]["text"].startswith("Just a reminder")


def test_opting_out_is_audited_and_cancels_timers(patient_chat):
    chat = patient_chat("mood")
    consent_and_answer(chat, ["1"])
    chat.type("stop")
    chat.type("Yes, stop")
    services = chat.services
    assert count(services, m.AuditLog, m.AuditLog.action == "opted_out") == 1
    assert count(services, m.Timer, m.Timer.cancelled.is_(False), m.Timer.fired_at.is_(None)) == 0
    assert count(services, m.Patient, m.Patient.status == "opted_out") == 1


def test_no_answer_or_free_text_reaches_the_logs(patient_chat, caplog):
    caplog.set_level(logging.DEBUG)
    chat = patient_chat("mood")
    consent_and_answer(chat, ["Nearly every day", "3", "2", "2", "2", "2", "2", "2"])
    chat.type("my neighbour Zebulon says I want to die")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in ("Nearly every day", "Zebulon", "want to die", "P-0001"):
        assert secret not in logged
