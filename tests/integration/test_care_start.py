"""A clinician puts a patient in care without a handoff: by /registry start in Slack or `carebridge care start`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from bot.config import settings
from bot.services.care_start import care_start_note, put_in_care
from bot.services.registry import registry
from bot.services.timers import fire_due_timers
from bot.store.tables import AUDIT, PATIENT
from tests.e2e.telegram_harness import wait_for
from tests.integration.slack_served import served_app
from tests.integration.test_checkins import pending_checkins
from tests.store_fixtures import FIXTURES

NEGATIVE_INTAKE = ["I agree", "1", "1"]  # PHQ-2 of 0: nothing offered, nobody paged


def screened(patient_chat, services, chat_id: str = "chat-1") -> tuple[object, str]:
    """Return a patient of the team clinic who finished a negative intake, and their code."""
    chat = patient_chat("team", chat_id, services=services)
    chat.start()
    for text in NEGATIVE_INTAKE:
        chat.type(text)
    with services.store.engine.connect() as conn:
        code = conn.execute(select(PATIENT.c.code).order_by(PATIENT.c.id.desc())).scalars().first()
    return chat, code


def test_a_clinician_puts_a_patient_in_care_and_their_first_phq9_check_in_comes_14_days_later(
        make_services, patient_chat, clock):
    services = make_services()
    chat, code = screened(patient_chat, services)
    assert registry(services) == []
    note = care_start_note(services, "U0BEN", code.lower())
    assert note == f"{code} is now in care at Team Clinic. First check-ins: PHQ-9 on 2026-12-08."
    assert pending_checkins(services) == [("checkin:phq9", datetime(2026, 12, 8, 15, 0, tzinfo=UTC))]
    assert [entry.patient for entry in registry(services)] == [code]
    with services.store.engine.connect() as conn:
        audit = conn.execute(select(AUDIT.c.actor).where(AUDIT.c.action == "care_started")).scalars().all()
    assert audit == ["clinician:U0BEN"]

    clock.advance(days=14)
    assert fire_due_timers(services) == 1
    assert chat.deliver()[0]["text"].startswith("Time for your regular check-in")


def test_putting_a_patient_in_care_twice_schedules_nothing_more(make_services, patient_chat, clock):
    services = make_services()
    _, code = screened(patient_chat, services)
    care_start_note(services, "U0BEN", code)
    clock.advance(days=3)
    assert care_start_note(services, "U0DANA", code) == (
        f"{code} has been in care at Team Clinic since 2026-11-24; their check-ins are already scheduled.")
    assert len(pending_checkins(services)) == 1


def test_a_patient_who_stopped_is_not_put_in_care(make_services, patient_chat):
    services = make_services()
    chat, code = screened(patient_chat, services)
    chat.type("stop")
    chat.type("1")  # yes, stop
    started = put_in_care(services, ["team"], code, "clinician:U0BEN")
    assert started.status == "stopped"
    assert pending_checkins(services) == [] and registry(services) == []


def test_only_the_behavioral_health_roster_may_put_patients_in_care_and_only_at_their_clinics(
        make_services, patient_chat):
    services = make_services()
    _, team_code = screened(patient_chat, services)
    mood_chat = patient_chat("mood", "chat-2", services=services)
    mood_chat.start()
    with services.store.engine.connect() as conn:
        mood_code = conn.execute(select(PATIENT.c.code).order_by(PATIENT.c.id.desc())).scalars().first()
    assert care_start_note(services, "U0PCP", team_code).startswith("Only the behavioral health team")
    assert care_start_note(services, "U0BEN", mood_code) == f"No patient with the code {mood_code} at your clinics."
    assert care_start_note(services, "U0BEN", "").startswith("Use `/registry P-XXXX`")
    assert registry(services) == []


def test_registry_start_in_slack_answers_the_clinician_privately(make_services, patient_chat):
    services = make_services()
    _, code = screened(patient_chat, services)
    with served_app(services, (("U0BEN", "ben"),)) as api:
        assert api.slash_command("U0BEN", "/registry", f"start {code}").status_code == 200
        wait_for(lambda: any(f"{code} is now in care at Team Clinic" in str(e) for e in api.ephemerals("U0BEN")),
                 what="the confirmation")
        assert api.files == [] and api.messages("C0TEAMBH") == []
    assert [entry.patient for entry in registry(services)] == [code]


@pytest.fixture
def care_cli(monkeypatch, database_url):
    """Run `carebridge care` on the test database and clinic file."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CAREBRIDGE_CONFIG", str(FIXTURES / "clinic.toml"))
    settings.cache_clear()
    yield lambda *args: CliRunner().invoke(app, ["care", *args])
    settings.cache_clear()


def test_care_start_on_the_command_line(make_services, patient_chat, care_cli):
    services = make_services()
    _, code = screened(patient_chat, services)
    done = care_cli("start", code, "--clinic", "team")
    assert done.exit_code == 0, done.output
    assert f"{code} is now in care at Team Clinic. First check-ins: PHQ-9 on" in done.output
    assert [entry.patient for entry in registry(services)] == [code]
    assert care_cli("start", "P-NOPE").exit_code == 1
    assert care_cli("start", code, "--clinic", "nowhere").exit_code == 2
