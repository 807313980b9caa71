"""/registry P-XXXX: the trend chart reaches the clinician by direct message; others are refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.adapters.console import ConsoleChat
from bot.services.enrollment import enroll_chat
from bot.services.patient_trend import patient_trend
from bot.services.timers import fire_due_timers
from bot.store.tables import PATIENT
from tests.e2e.telegram_harness import wait_for
from tests.integration.slack_served import served_app
from tests.integration.test_checkins import PHQ9_MODERATE, in_care
from tests.store_fixtures import FIXTURES

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def served(make_services):
    """Serve the real bolt app on loopback against the Slack stand-in; return (api, services)."""
    services = make_services()
    with served_app(services, (("U0BEN", "ben"), ("U0PCP", "pat"))) as api:
        yield api, services


def followed_for_a_month(patient_chat, services, clock) -> str:
    chat = in_care(lambda clinic: patient_chat(clinic, services=services))
    clock.advance(days=14)
    fire_due_timers(services)
    for answer in PHQ9_MODERATE:
        chat.type(answer)
    clock.advance(days=14)
    with services.store.engine.connect() as conn:
        return conn.execute(select(PATIENT.c.code)).scalar_one()


def test_the_trend_chart_is_posted_to_the_clinician_as_a_png_named_by_code_only(served, patient_chat, clock):
    api, services = served
    code = followed_for_a_month(patient_chat, services, clock)
    assert api.slash_command("U0BEN", "/registry", code.lower()).status_code == 200
    [upload] = wait_for(lambda: [f for f in api.files if f.completed], what="the chart upload")
    assert upload.data.startswith(PNG) and upload.size > 5_000
    assert upload.channel_id == api.dm_channel("U0BEN")
    assert upload.title.startswith(f"{code} · Team Clinic · week 4 in care") and "MRN" not in upload.title
    assert upload.initial_comment.startswith(f"Trend for {code}")


def test_a_phi_cleared_clinic_sees_the_mrn_in_the_chart_title(make_services, clock, tmp_path):
    cleared = tmp_path / "clinic.toml"
    cleared.write_text((FIXTURES / "clinic.toml").read_text(encoding="utf-8").replace(
        'timezone = "America/Chicago"', 'timezone = "America/Chicago"\nphi_in_slack = true', 1), encoding="utf-8")
    services = make_services(config=cleared)

    def with_mrn(clinic: str, services) -> ConsoleChat:
        enroll_chat(services, clinic, "console", "chat-1", external_ref="MRN-4711")
        return ConsoleChat(services, "chat-1")

    with served_app(services, (("U0BEN", "ben"),)) as api:
        code = followed_for_a_month(with_mrn, services, clock)
        api.slash_command("U0BEN", "/registry", code)
        [upload] = wait_for(lambda: [f for f in api.files if f.completed], what="the chart upload")
    assert upload.title.startswith(f"{code} · MRN MRN-4711 · Team Clinic · week 4 in care")
    assert upload.data.startswith(PNG)


def test_registry_refuses_pcps_and_names_unknown_codes(served, patient_chat, clock):
    api, services = served
    followed_for_a_month(patient_chat, services, clock)
    api.slash_command("U0PCP", "/registry", "P-ANY")
    wait_for(lambda: any("Only the behavioral health team" in str(e) for e in api.ephemerals("U0PCP")),
             what="the refusal")
    api.slash_command("U0BEN", "/registry", "P-NOPE")
    wait_for(lambda: any("No patient in care with the code P-NOPE" in str(e) for e in api.ephemerals("U0BEN")),
             what="unknown code")
    assert api.files == []


def test_the_trend_service_reads_the_registry_entry(make_services, patient_chat, clock):
    services = make_services()
    code = followed_for_a_month(patient_chat, services, clock)
    found = patient_trend(services, "U0BEN", code)
    [phq] = found.entry.trends
    assert (phq.baseline.total, phq.latest.total) == (10, 12) and found.status == "found"
    assert patient_trend(services, "U0BEN", "two words").status == "usage"
