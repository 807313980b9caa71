"""Slack as clinicians use it: /consult's modal, /oncall, and closing a handoff with its outcome, end to end."""

from __future__ import annotations

from bot.metrics import REGISTRY
from bot.services.enrollment import enroll_chat
from tests.e2e.telegram_harness import wait_for
from tests.e2e.test_warm_handoff import CHANNEL, page_in_channel, running_bot

PCP, DANA, BEN = "U0PCP", "U0DANA", "U0BEN"


def chosen(kind: str, value: str) -> dict:
    if kind == "checkboxes":
        return {"type": kind, "selected_options": [{"value": value}]}
    return {"type": kind, "selected_option": {"value": value}}


def consult_values(patient: str, reason: str = "Panic attacks, PHQ-9 14", urgency: str = "urgent") -> dict:
    return {"patient": {"value": patient}, "reason": {"value": reason},
            "urgency": {"value": chosen("radio_buttons", urgency)}, "in_room": {"value": chosen("checkboxes", "yes")},
            "note": {"value": "Asked for help today"}}


def dm_texts(slack, user: str) -> list[str]:
    return [message.text for message in slack.messages(slack.dm_channel(user))]


def test_a_pcp_consult_through_the_modal_pages_the_team_and_the_pcp_hears_of_the_acceptance(telegram, slack,
                                                                                              database_url):
    with running_bot(telegram, slack, database_url) as bot:
        code = enroll_chat(bot.services, "team", "console", "c-1", external_ref="MRN-1")
        assert slack.slash_command(PCP, "/consult").status_code == 200
        [modal] = wait_for(lambda: slack.views(PCP), what="the consult modal")
        assert modal["callback_id"] == "consult" and len(modal["title"]["text"]) <= 24
        refused = slack.submit_view(PCP, "consult", consult_values("MRN-404"))
        assert refused.json()["response_action"] == "errors" and "No patient at Team Clinic" in str(refused.json())
        empty = slack.submit_view(PCP, "consult", consult_values("MRN-1", reason=""))
        assert set(empty.json()["errors"]) == {"reason"}
        assert slack.views(PCP), "the modal stays open while fields are wrong"
        assert slack.submit_view(PCP, "consult", consult_values("MRN-1")).status_code == 200
        assert slack.views(PCP) == []
        page = page_in_channel(slack)
        blocks = str(page.blocks)
        assert f"<@{DANA}>" in blocks and code in blocks and "Consult requested by <@U0PCP>" in blocks
        assert "patient is in the room now" in blocks and "MRN-1" not in blocks
        wait_for(lambda: any("Consult sent for" in text for text in dm_texts(slack, PCP)), what="the PCP's receipt")
        ref = next(value for action, value, _label in page.buttons if action == "handoff:accept")
        slack.press_button(DANA, CHANNEL, page.ts, "handoff:accept", ref)
        wait_for(lambda: any(f"<@{DANA}> accepted your consult for {code}" in text for text in dm_texts(slack, PCP)),
                 what="the PCP told of the acceptance")
    assert bot.error is None


def test_consult_is_refused_to_clinicians_outside_the_pcp_group(telegram, slack, database_url):
    with running_bot(telegram, slack, database_url) as bot:
        slack.slash_command(BEN, "/consult")
        wait_for(lambda: any("primary care clinicians" in str(e) for e in slack.ephemerals(BEN)),
                 what="the refusal")
        assert slack.views(BEN) == []
    assert bot.error is None


def test_oncall_take_is_posted_and_the_next_page_goes_to_the_taker(telegram, slack, database_url):
    with running_bot(telegram, slack, database_url) as bot:
        before = applied_in_slack()
        slack.slash_command(BEN, "/oncall", "take")
        wait_for(lambda: any("<@U0BEN> took primary" in m.text for m in slack.messages(CHANNEL)),
                 what="the change posted in the channel")
        assert applied_in_slack() == before + 1
        slack.slash_command(PCP, "/oncall")
        wait_for(lambda: any("Primary: <@U0BEN> (covering)" in str(e) for e in slack.ephemerals(PCP)),
                 what="who is on duty, for the PCP")
        code = enroll_chat(bot.services, "team", "console", "c-2")
        slack.slash_command(PCP, "/consult")
        wait_for(lambda: slack.views(PCP), what="the consult modal")
        slack.submit_view(PCP, "consult", consult_values(code, urgency="routine"))
        page = wait_for(lambda: [m for m in slack.messages(CHANNEL) if m.buttons], what="the page")[0]
        assert f"<@{BEN}>" in str(page.blocks)
    assert bot.error is None


def test_close_asks_for_the_outcome_and_records_it(telegram, slack, database_url):
    with running_bot(telegram, slack, database_url) as bot:
        code = enroll_chat(bot.services, "team", "console", "c-3")
        before = applied_in_slack()
        slack.slash_command(PCP, "/consult")
        wait_for(lambda: slack.views(PCP), what="the consult modal")
        slack.submit_view(PCP, "consult", consult_values(code))
        page = page_in_channel(slack)
        assert applied_in_slack() == before + 1  # the consult form, counted for /metrics
        ref = page.buttons[0][1]
        slack.press_button(DANA, CHANNEL, page.ts, "handoff:accept", ref)
        wait_for(lambda: slack.message(CHANNEL, page.ts).buttons[-1][0] == "handoff:closed", what="progress buttons")
        slack.press_button(DANA, CHANNEL, page.ts, "handoff:closed", ref)
        [modal] = wait_for(lambda: slack.views(DANA), what="the outcome modal")
        assert modal["private_metadata"] == ref
        unchosen = slack.submit_view(DANA, "handoff_close", {})
        assert unchosen.json()["response_action"] == "errors"
        slack.submit_view(DANA, "handoff_close", {"outcome": {"value": chosen("radio_buttons", "engaged_in_care")}})
        wait_for(lambda: slack.message(CHANNEL, page.ts).buttons == [], what="the page closed")
        assert "closed" in str(slack.message(CHANNEL, page.ts).blocks)
        wait_for(lambda: any("Engaged in behavioral health care" in m.text for m in slack.thread(CHANNEL, page.ts)),
                 what="the outcome in the thread")
        assert applied_in_slack() == before + 3  # and the acceptance and the outcome form (not the refused one)
    assert bot.error is None


def applied_in_slack() -> float:
    """Return how many Slack events this process has applied, as /metrics counts them."""
    return REGISTRY.get_sample_value("carebridge_events_total", {"source": "slack", "status": "applied"}) or 0
