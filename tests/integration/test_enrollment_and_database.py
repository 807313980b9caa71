"""Enrollment links and the database settings the invariants rely on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

from bot.adapters.console import ConsoleChat
from bot.domain.events import PatientCommand
from bot.services.enrollment import token_hash
from bot.services.handle import handle
from bot.store import models as m
from bot.store.db import make_engine, reading
from tests.store_fixtures import FIXTURES


def add_token(services, token: str, clinic_slug: str, expires_in: timedelta) -> None:
    now = services.now()
    with Session(services.store.engine) as session:
        clinic = session.exec(select(m.Clinic).where(m.Clinic.slug == clinic_slug)).first()
        if clinic is None:
            clinic = m.Clinic(slug=clinic_slug, name=clinic_slug)
            session.add(clinic)
            session.flush()
        session.add(m.EnrollmentToken(token_hash=token_hash(token), clinic_id=clinic.id, external_ref="MRN-1",
                                      created_at=now, expires_at=now + expires_in))
        session.commit()


def start(services, chat_id: str, argument: str) -> list[dict]:
    handle(services, PatientCommand(f"console:{chat_id}:{argument}", "console", chat_id, "start", argument))
    return ConsoleChat(services, chat_id).deliver()


def test_a_token_enrolls_once_and_is_stored_only_hashed(make_services):
    services = make_services()
    add_token(services, "tok-abc", "mood", timedelta(days=7))
    assert start(services, "t1", "tok-abc")[0]["text"].startswith("Hello! This is the care team at Mood Clinic")
    assert start(services, "t2", "tok-abc")[0]["text"].startswith("Sorry, this link is not valid any more")
    with Session(services.store.engine) as session:
        patients = session.exec(select(m.Patient)).all()
        stored = [t.token_hash for t in session.exec(select(m.EnrollmentToken)).all()]
    assert [(p.external_ref, p.code.startswith("P-")) for p in patients] == [("MRN-1", True)]
    assert "tok-abc" not in stored


def test_expired_unknown_and_closed_clinic_codes_get_a_friendly_message_and_no_patient(make_services, clock):
    services = make_services()
    add_token(services, "tok-old", "mood", timedelta(hours=1))
    clock.advance(hours=2)
    assert start(services, "t3", "tok-old")[0]["text"].startswith("Sorry, this link is not valid any more")
    assert start(services, "t4", "nope")[0]["text"].startswith("Sorry, this link is not valid any more")
    assert start(services, "t5", "c-mood")[0]["text"].startswith("Sorry, this link is not valid any more")
    assert start(services, "t6", "")[0]["text"].startswith("Hello! This chat is for patients of clinics")
    with Session(services.store.engine) as session:
        assert session.exec(select(m.Patient)).all() == []


def test_open_enrollment_creates_a_pseudonymous_patient(make_services):
    services = make_services()
    received = start(services, "t7", "c-intake")
    assert received[0]["text"].startswith("Hello! This is the care team at Intake Clinic")
    with Session(services.store.engine) as session:
        patient = session.exec(select(m.Patient)).one()
    assert patient.external_ref is None and patient.code.startswith("P-")


def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(make_services):
    services = make_services()
    if services.store.engine.dialect.name != "sqlite":
        return
    with services.store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000


def test_on_sqlite_writers_queue_at_begin_and_readers_never_wait(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    other = make_engine(f"sqlite:///{tmp_path / 'lock.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
    with engine.begin() as writer:  # holds the write lock from BEGIN on, before it writes anything
        writer.execute(text("SELECT x FROM t")).all()
        with reading(other) as reader:  # a reader does not wait for it
            assert reader.execute(text("SELECT x FROM t")).scalar() == 1
        blocked = other.connect()
        blocked.connection.driver_connection.execute("PRAGMA busy_timeout=50")  # not through SQLAlchemy: no BEGIN
        with pytest.raises(OperationalError, match="locked"):  # a second writer waits from its BEGIN
            blocked.begin()
        blocked.close()


def test_on_sqlite_the_next_transaction_gets_the_connection_last_given_back(tmp_path):
    # SQLite drops a connection's page cache when another connection has written since its last transaction:
    # the loop's transactions keep to one connection and read their pages from memory.
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}")
    first, second = engine.connect(), engine.connect()
    first_driver, second_driver = first.connection.driver_connection, second.connection.driver_connection
    first.close()
    second.close()
    for _ in range(3):
        with engine.begin() as conn:
            assert conn.connection.driver_connection is second_driver
    assert first_driver is not second_driver


def test_the_clinic_can_end_the_screening_after_the_crisis_protocol(make_services, patient_chat, tmp_path):
    config = tmp_path / "clinic.toml"
    config.write_text((FIXTURES / "clinic.toml").read_text().replace('after_crisis = "continue"', 'after_crisis = "end"'))
    chat = patient_chat("mood", services=make_services(config=config))
    chat.start()
    for reply in ["I agree", "3", "3", "1", "1", "1", "1", "1", "1"]:
        chat.type(reply)
    received = chat.type("4")
    assert [r["text"].splitlines()[0] for r in received][:2] == [
        "If you are thinking about hurting yourself, please reach out for help now:",
        "Are you having thoughts of killing yourself right now?",
    ]
    received = chat.type("no")
    assert [r["text"].splitlines()[0] for r in received] == [
        "Thank you for telling us. We have let your care team know, and someone will reach out to you today. "
        "If things get worse, call or text 988, or call 911.",
        "We will stop the questions here for today. Your care team will be in touch.",
    ]
    with Session(chat.services.store.engine) as session:
        assert session.exec(select(m.Screening.status)).all() == ["ended_after_crisis"]
