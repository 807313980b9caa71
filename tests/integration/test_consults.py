"""PCP consults: checked fields, a page naming the requester, the PCP told on acceptance and escalation."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.adapters.console import ConsoleChat
from bot.domain.events import PatientCommand
from bot.services.consult import ConsultForm, request_consult
from bot.services.enrollment import enroll_chat
from bot.services.handle import handle
from bot.services.timers import fire_due_timers
from bot.store.tables import AUDIT, HANDOFF, PATIENT
from tests.integration.test_handoffs import CHANNEL, press, slack_rows
from tests.store_fixtures import FIXTURES

PCP = "U0PCP"


def link_for(token: str) -> str:
    return f"https://t.me/test_bot?start={token}"


def form(**fields) -> ConsultForm:
    values = {"clinic": None, "patient": "", "new_patient": False, "reason": "Panic attacks at work, PHQ-9 14",
              "urgency": "routine", "in_room": False, "note": None}
    return ConsultForm(**{**values, **fields})


def consult(services, user: str = PCP, key: str = "view-1", **fields):
    return request_consult(services, user, form(**fields), f"slack:consult:{key}", link_for)


def dms(services, user: str = PCP) -> list[str]:
    return [row.payload["text"] for row in slack_rows(services, "dm") if row.recipient == user]


def test_a_consult_for_a_known_patient_pages_the_primary_naming_the_pcp(make_services):
    services = make_services()
    code = enroll_chat(services, "team", "console", "chat-1")
    reply = consult(services, patient=code.lower(), urgency="urgent", in_room=True, note="Tearful, asks for help")
    assert reply.status == "applied"
    [page] = slack_rows(services, "page")
    text = "\n".join(page.payload["lines"])
    assert page.recipient == CHANNEL and page.payload["mention"] == "U0DANA"
    assert f"*URGENT* · {code} · Team Clinic" in text and "Panic attacks at work, PHQ-9 14" in text
    assert "*patient is in the room now*" in text and "> Tearful, asks for help" in text
    assert "Consult requested by <@U0PCP>" in text
    assert [b["action"] for b in page.payload["buttons"]] == ["accept", "decline"]
    assert dms(services) == [reply.note]
    assert f"Consult sent for {code} (urgent, Team Clinic): paging <@U0DANA>." in reply.note
    with services.store.engine.connect() as conn:
        row = conn.execute(select(HANDOFF)).one()
        audit = conn.execute(select(AUDIT).where(AUDIT.c.action == "consult_requested")).one()
    assert (row.source, row.requested_by, row.in_room, row.status) == ("consult", PCP, True, "open")
    assert audit.actor == "clinician:U0PCP"


def test_a_patient_can_be_named_by_mrn_and_the_mrn_shows_only_where_phi_is_allowed(make_services, tmp_path):
    services = make_services()
    code = enroll_chat(services, "team", "console", "chat-1", external_ref="MRN-4471")
    assert consult(services, patient="MRN-4471").status == "applied"
    [page] = slack_rows(services, "page")
    assert code in page.payload["lines"][0] and "MRN" not in str(page.payload)
    cleared = tmp_path / "clinic.toml"
    cleared.write_text((FIXTURES / "clinic.toml").read_text().replace(
        'timezone = "America/Chicago"', 'timezone = "America/Chicago"\nphi_in_slack = true'))
    phi_services = make_services(config=Path(cleared))
    assert consult(phi_services, patient="MRN-4471", key="view-2").status == "applied"
    pages = slack_rows(phi_services, "page")
    assert f"{code} · MRN MRN-4471 · Team Clinic" in pages[-1].payload["lines"][0]


def test_invalid_fields_come_back_as_field_errors_and_nothing_is_stored(make_services):
    services = make_services()
    reply = consult(services, patient="", reason="", urgency="soon", note="x" * 1001)
    assert reply.status == "invalid"
    assert set(reply.errors) == {"patient", "reason", "urgency", "note"}
    assert "one line of at most 150 characters" in reply.errors["reason"]
    unknown = consult(services, patient="P-NOPE")
    assert unknown.status == "invalid" and "No patient at Team Clinic has that code or MRN" in unknown.errors["patient"]
    assert consult(services, patient="x", reason="r" * 151).errors.keys() == {"reason"}
    assert slack_rows(services) == []
    code = enroll_chat(services, "team", "console", "chat-1")
    assert consult(services, patient=code).status == "applied"  # the same form, corrected, goes through


def test_only_the_pcp_group_may_request_and_a_resubmitted_form_pages_once(make_services):
    services = make_services()
    refused = consult(services, user="U0DANA", patient="x")
    assert refused.status == "refused" and "primary care clinicians" in refused.note
    code = enroll_chat(services, "team", "console", "chat-1")
    assert consult(services, patient=code).status == "applied"
    assert consult(services, patient=code).status == "duplicate"
    assert len(slack_rows(services, "page")) == 1


def test_a_new_patient_gets_a_code_and_an_enrollment_link_that_joins_them_to_the_consult(make_services):
    services = make_services()
    reply = consult(services, new_patient=True, patient="MRN-9")
    assert reply.status == "applied"
    link = next(line for line in reply.note.splitlines() if line.startswith("https://t.me/test_bot?start="))
    token = link.rsplit("=", 1)[1]
    with services.store.engine.connect() as conn:
        code, mrn = conn.execute(select(PATIENT.c.code, PATIENT.c.external_ref)).one()
    assert f"New patient {code}" in reply.note and mrn == "MRN-9"
    handle(services, PatientCommand("console:join", "console", "chat-new", "start", token))
    chat = ConsoleChat(services, "chat-new")
    assert chat.deliver()  # welcomed as the patient the consult is about
    with services.store.engine.connect() as conn:
        assert conn.execute(select(PATIENT.c.code)).scalars().all() == [code]
    press(services, "U0BEN", slack_rows(services, "page")[0].ref)
    assert any("Ben Okafor, PhD" in message["text"] for message in chat.deliver())


def test_the_pcp_is_told_when_the_consult_is_escalated_and_when_it_is_accepted(make_services, clock):
    services = make_services()
    code = enroll_chat(services, "team", "console", "chat-1")
    consult(services, patient=code)
    clock.advance(minutes=10)
    fire_due_timers(services)
    assert dms(services)[-1] == f"Your consult for {code} is not accepted yet; now paging <@U0BEN>."
    clock.advance(minutes=1, seconds=30)
    press(services, "U0BEN", slack_rows(services, "page")[0].ref)
    assert dms(services)[-1] == f"<@U0BEN> accepted your consult for {code} after 11 min 30 s."


def test_the_pcp_is_told_when_nobody_answers_an_urgent_consult(make_services, clock):
    services = make_services()
    code = enroll_chat(services, "team", "console", "chat-1")
    consult(services, patient=code, urgency="urgent")
    for _ in range(2):
        clock.advance(minutes=2)
        fire_due_timers(services)
    assert dms(services)[-1].startswith(f"Nobody has accepted your consult for {code} yet.")
