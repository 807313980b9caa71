"""The App Home tab: on duty now, the open pages with their wait and rung, and the clinician's own handoffs."""

from __future__ import annotations

import logging
import time

import pytest

from bot.adapters.slack import home as home_adapter
from bot.adapters.slack.home import MAX_BLOCKS, home_blocks
from bot.services.home import home_view
from bot.services.oncall_command import oncall_command
from bot.services.timers import fire_due_timers
from tests.integration.slack_served import served_app
from tests.integration.test_handoffs import ITEM9_POSITIVE, paged_patient, press, slack_rows

STAFF = (("U0DANA", "dana"), ("U0BEN", "ben"), ("U0PCP", "pat"), ("U0STRANGER", "stranger"))


def sections(view: dict) -> dict[str, list[str]]:
    """Return the view's items by heading."""
    return {section["heading"]: section["items"] for section in view["sections"]}


def wait_for(found, seconds: float = 5.0):
    """Return found()'s first truthy value (the app works after its ack, in the background)."""
    deadline = time.monotonic() + seconds
    while not (value := found()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
    return value


def paged(patient_chat, chat_id: str, services):
    """Page the team from one more patient on the same services."""
    chat = patient_chat("team", chat_id=chat_id, services=services)
    chat.start()
    for text in ITEM9_POSITIVE:
        chat.type(text)
    return chat


def test_on_duty_now_names_primary_backup_and_until_when_and_marks_a_cover(make_services):
    services = make_services()
    [duty] = sections(home_view(services, "U0DANA"))["On duty now"]
    assert duty.splitlines() == ["*Team Clinic* · shift until Tue 19:00", "Primary: <@U0DANA>", "Backup: <@U0BEN>"]
    assert oncall_command(services, "U0NIGHT", "take backup", "k:take").status == "applied"
    [duty] = sections(home_view(services, "U0BEN"))["On duty now"]
    assert duty.splitlines()[2] == "Backup: <@U0NIGHT> (covering)"


def test_an_open_page_shows_urgency_code_reason_waiting_time_and_rung(patient_chat, clock):
    chat = paged_patient(patient_chat)
    services = chat.services
    code = slack_rows(services, "page")[0].payload["patient_code"]
    clock.advance(minutes=3)
    view = home_view(services, "U0BEN")
    [page] = sections(view)["Open pages"]
    first, reason, rung = page.splitlines()
    assert first == f"*URGENT* · {code} · Team Clinic · waiting 3 min 0 s"
    assert reason.startswith("PHQ-9") and rung == "Paging rung 1 of 3: the primary on duty"
    assert sections(view)["My handoffs"] == ["You have no handoffs in progress."]
    assert view["footer"] == "As of Tue 09:03 (America/Chicago). Open this tab again to refresh."
    assert fire_due_timers(services) == 1  # two minutes unanswered: the backup is paged
    [page] = sections(home_view(services, "U0BEN"))["Open pages"]
    assert page.endswith("Paging rung 2 of 3: the backup")


def test_open_pages_are_oldest_first_and_the_rest_are_counted(patient_chat, clock, monkeypatch):
    chat = paged_patient(patient_chat)
    clock.advance(minutes=1)
    paged(patient_chat, "chat-2", chat.services)
    [older, newer] = sections(home_view(chat.services, "U0DANA"))["Open pages"]
    assert "waiting 1 min 0 s" in older and "waiting 0 s" in newer
    monkeypatch.setattr("bot.services.home.LIST_LIMIT", 1)
    [older_only, more] = sections(home_view(chat.services, "U0DANA"))["Open pages"]
    assert older_only == older and more == "…and 1 more open page not shown here."


def test_an_accepted_handoff_leaves_open_pages_and_shows_under_my_handoffs_until_closed(patient_chat, clock):
    chat = paged_patient(patient_chat)
    services = chat.services
    ref = slack_rows(services, "page")[0].ref
    code = slack_rows(services, "page")[0].payload["patient_code"]
    clock.advance(minutes=1)
    assert press(services, "U0DANA", ref).status == "applied"
    clock.advance(hours=1, minutes=5)
    mine = sections(home_view(services, "U0DANA"))
    [handoff] = mine["My handoffs"]
    assert handoff.splitlines()[0] == f"*URGENT* · {code} · Team Clinic · accepted"
    assert handoff.splitlines()[-1] == "Accepted 1 h 5 min ago"
    assert mine["Open pages"] == ["No open pages. Nobody is waiting for a clinician."]
    assert sections(home_view(services, "U0BEN"))["My handoffs"] == ["You have no handoffs in progress."]
    assert press(services, "U0DANA", ref, "contact_made").status == "applied"
    [handoff] = sections(home_view(services, "U0DANA"))["My handoffs"]
    assert handoff.splitlines()[0].endswith("· contact made")
    assert press(services, "U0DANA", ref, "closed", outcome="engaged_in_care").status == "applied"
    assert sections(home_view(services, "U0DANA"))["My handoffs"] == ["You have no handoffs in progress."]


def test_a_user_on_no_clinics_staff_is_told_why_the_page_is_empty(patient_chat):
    chat = paged_patient(patient_chat)
    view = home_view(chat.services, "U0STRANGER")
    [(heading, [note])] = sections(view).items()
    assert heading == "CareBridge" and "not on any clinic's care team" in note
    assert view["footer"] is None
    assert len(sections(home_view(chat.services, "U0PCP"))["Open pages"]) == 1  # a PCP on the staff list sees it


def test_the_blocks_stay_within_slacks_limits_and_end_politely():
    items = [f"*ROUTINE* · P-{n:04d} · " + "x" * 1600 for n in range(400)] + ["y" * 5000]
    view = {"sections": [{"heading": "H" * 200, "items": items}], "footer": "As of now", "overflow": "More elsewhere"}
    blocks = home_blocks(view)
    assert len(blocks) == MAX_BLOCKS and blocks[0]["type"] == "header" and len(blocks[0]["text"]["text"]) == 150
    assert blocks[-2]["text"]["text"] == "More elsewhere" and blocks[-1]["type"] == "context"
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    last = home_blocks({**view, "sections": [{"heading": "H", "items": ["y" * 5000]}]})[1]["text"]["text"]
    assert len(last) == 3000 and last.endswith("…")


@pytest.fixture
def slack_home(make_services):
    """Serve the real bolt app on loopback, wired to the Slack stand-in."""
    services = make_services()
    with served_app(services, STAFF) as api:
        yield api, services


def test_opening_the_home_tab_publishes_the_view_through_the_real_app(slack_home, patient_chat):
    api, services = slack_home
    paged(patient_chat, "chat-home", services)
    assert api.event("app_home_opened", user="U0DANA").status_code == 200
    home = wait_for(lambda: api.home("U0DANA"))
    assert home["type"] == "home"
    headers = [b["text"]["text"] for b in home["blocks"] if b["type"] == "header"]
    assert headers == ["On duty now", "Open pages", "My handoffs", "Caseload"]
    text = str(home["blocks"])
    assert "<@U0DANA>" in text and "*URGENT* · P-" in text and "Paging rung 1 of 3" in text
    assert api.calls_of("views.publish")[0].params["user_id"] == "U0DANA"
    assert api.event("app_home_opened", user="U0STRANGER").status_code == 200
    assert "not on any clinic's care team" in str(wait_for(lambda: api.home("U0STRANGER"))["blocks"])


def test_other_tabs_are_ignored_and_a_failure_logs_only_the_error_class(slack_home, caplog, monkeypatch):
    api, _services = slack_home
    caplog.set_level(logging.INFO, logger="bot.adapters.slack")
    assert api.event("app_home_opened", user="U0BEN", tab="messages").status_code == 200

    def broken(services, user):
        raise RuntimeError("P-SECRET reason text")

    monkeypatch.setattr(home_adapter, "home_view", broken)
    assert api.event("app_home_opened", user="U0BEN").status_code == 200
    wait_for(lambda: any(r.msg == "slack home not published" for r in caplog.records))
    [record] = [r for r in caplog.records if r.msg == "slack home not published"]
    assert record.error == "RuntimeError" and "P-SECRET" not in str(record.__dict__)
    assert api.calls_of("views.publish") == [] and api.home("U0BEN") is None
