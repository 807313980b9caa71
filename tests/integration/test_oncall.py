"""On call: who is on duty now, taking a role, handing it over; pages follow the change, every change is audited."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.services.oncall_command import oncall_command, parse
from bot.store.tables import AUDIT
from tests.integration.test_handoffs import CHANNEL, paged_patient, slack_rows

# The fixture clinic "team": shift 07:00-19:00 every day in America/Chicago, primary U0DANA, backup U0BEN;
# the clock starts on Tuesday 2026-11-24 at 09:00 Chicago time.


def oncall(services, user: str, text: str = "", key: str | None = None):
    return oncall_command(services, user, text, key or f"k:{user}:{text}")


def test_oncall_shows_the_shift_on_now_and_until_when(make_services):
    reply = oncall(make_services(), "U0PCP")
    assert reply.status == "shown"
    assert "*Team Clinic* · shift until Tue 19:00" in reply.note
    assert "Primary: <@U0DANA>" in reply.note and "Backup: <@U0BEN>" in reply.note


def test_after_hours_the_primary_rung_goes_to_the_after_hours_contact_and_the_next_shift_is_named(make_services,
                                                                                                 clock):
    clock.moment = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # Tuesday 21:00 in Chicago
    reply = oncall(make_services(), "U0DANA")
    assert "no shift on; the next starts Wed 07:00" in reply.note
    assert "pages go to <@U0NIGHT> (after hours)" in reply.note


def test_taking_primary_sends_the_next_page_to_the_taker_and_is_posted_and_audited(patient_chat, make_services):
    services = make_services()
    reply = oncall(services, "U0BEN", "take")
    assert reply.status == "applied"
    [post] = reply.queued
    assert post.kind == "post" and post.recipient == CHANNEL
    assert post.payload["text"] == ("<@U0BEN> took primary on call for Team Clinic until Tue 19:00"
                                    " (was <@U0DANA>, now backup). New pages go to <@U0BEN>.")
    assert "Primary: <@U0BEN> (covering)" in oncall(services, "U0DANA").note
    chat = paged_patient(lambda clinic: patient_chat(clinic, services=services))
    [page] = slack_rows(chat.services, "page")
    assert page.payload["mention"] == "U0BEN"
    with services.store.engine.connect() as conn:
        [audit] = conn.execute(select(AUDIT).where(AUDIT.c.action == "oncall_take")).all()
    assert audit.actor == "clinician:U0BEN"
    assert audit.detail["role"] == "primary" and audit.detail["to"] == "U0BEN" and audit.detail["was"] == "U0DANA"


def test_a_cover_ends_with_the_shift(make_services, clock):
    services = make_services()
    oncall(services, "U0BEN", "take")
    clock.moment = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # Wednesday 08:00 in Chicago: the next shift
    assert "Primary: <@U0DANA>\n" in oncall(services, "U0DANA").note


def test_the_holder_hands_primary_over_and_the_escalation_follows(patient_chat, make_services, clock):
    services = make_services()
    assert oncall(services, "U0BEN", "handover <@U0NIGHT|night>").status == "refused"  # Ben is not the primary
    reply = oncall(services, "U0DANA", "handover <@U0NIGHT|night>")
    assert reply.status == "applied"
    assert reply.note.startswith("<@U0DANA> handed primary on call for Team Clinic to <@U0NIGHT> until Tue 19:00")
    chat = paged_patient(lambda clinic: patient_chat(clinic, services=services))
    assert slack_rows(chat.services, "page")[0].payload["mention"] == "U0NIGHT"


def test_backup_can_be_taken_separately(make_services):
    services = make_services()
    assert oncall(services, "U0NIGHT", "take backup").status == "applied"
    note = oncall(services, "U0PCP").note
    assert "Primary: <@U0DANA>\n" in note and "Backup: <@U0NIGHT> (covering)" in note


def test_refusals_change_nothing(make_services):
    services = make_services()
    assert oncall(services, "U0STRANGER", "take").status == "refused"
    pcp = oncall(services, "U0PCP", "take")
    assert pcp.status == "refused" and "Only the behavioral health team" in pcp.note
    to_pcp = oncall(services, "U0DANA", "handover <@U0PCP>")
    assert to_pcp.status == "refused" and "<@U0PCP> is not on the behavioral health roster" in to_pcp.note
    assert oncall(services, "U0DANA", "take").status == "refused"  # already holds it
    assert oncall(services, "U0DANA", "dance").status == "usage"
    assert "Primary: <@U0DANA>\n" in oncall(services, "U0PCP").note
    with services.store.engine.connect() as conn:
        assert conn.execute(select(AUDIT).where(AUDIT.c.action.like("oncall%"))).all() == []


def test_a_redelivered_command_applies_once(make_services):
    services = make_services()
    first = oncall(services, "U0BEN", "take", key="slack:command:T1")
    again = oncall(services, "U0BEN", "take backup", key="slack:command:T1")
    assert (first.status, again.status) == ("applied", "duplicate")
    assert "Backup: <@U0DANA> (covering)" in oncall(services, "U0PCP").note  # the swap, and not Ben again
    with services.store.engine.connect() as conn:
        assert len(conn.execute(select(AUDIT).where(AUDIT.c.action.like("oncall%"))).all()) == 1


def test_the_backup_taking_primary_trades_roles_with_the_primary(make_services):
    services = make_services()
    reply = oncall(services, "U0BEN", "take")
    assert "(was <@U0DANA>, now backup)" in reply.note
    note = oncall(services, "U0PCP").note
    assert "Primary: <@U0BEN> (covering)" in note and "Backup: <@U0DANA> (covering)" in note


def test_the_command_reads_role_mention_and_clinic_in_any_order():
    assert parse("handover <@U0BEN> backup team", {"team"}).role == "backup"
    assert parse("take primary nowhere", {"team"}) is None
    assert parse("handover", {"team"}) is None


def test_the_care_manager_may_hand_a_role_to_someone_on_the_roster(make_services):
    services = make_services()
    assert oncall(services, "U0CARE", "handover <@U0NIGHT> backup").status == "applied"
    assert "Backup: <@U0NIGHT> (covering)" in oncall(services, "U0PCP").note


def test_a_cover_taken_in_the_afternoon_holds_though_the_shift_ends_at_an_earlier_utc_hour(make_services, clock):
    # 13:30 in Chicago is 19:30 UTC, later in the day than the shift's end written as 19:00-06:00: stored that way,
    # SQLite's text comparison ended the cover the moment it was taken.
    clock.moment = datetime(2026, 11, 24, 19, 30, tzinfo=UTC)
    services = make_services()
    assert oncall(services, "U0BEN", "take").status == "applied"
    clock.advance(minutes=1)
    assert "Primary: <@U0BEN> (covering)" in oncall(services, "U0PCP").note
