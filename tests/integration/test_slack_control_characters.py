"""Control characters (NUL) typed in Slack reach no query: PostgreSQL refuses them, clinicians get ordinary answers."""

from __future__ import annotations

from slack_sdk import WebClient
from sqlalchemy import func, select

from bot.services.enrollment import enroll_chat
from bot.store.tables import HANDOFF
from tests.e2e.telegram_harness import wait_for
from tests.e2e.test_slack_consults import consult_values
from tests.integration.slack_served import served_app

USERS = (("U0BEN", "ben"), ("U0PCP", "pat"))


def test_nul_in_commands_forms_and_buttons_gets_the_usual_answers_and_stores_nothing(make_services):
    services = make_services()
    code = enroll_chat(services, "team", "console", "c-1")
    with served_app(services, USERS) as api:
        api.add_channel("C0TEAMBH", "team-bh")
        posted = WebClient(token=api.token, base_url=api.base_url).chat_postMessage(channel="C0TEAMBH", text="A page")
        assert api.slash_command("U0BEN", "/registry", "P-\x00").status_code == 200
        assert api.slash_command("U0BEN", "/registry", "start P-\x00NOPE").status_code == 200
        assert api.slash_command("U0BEN", "/oncall", "take\x00").status_code == 200
        assert api.press_button("U0BEN", "C0TEAMBH", posted["ts"], "handoff:accept", "H-\x00",
                               require_button=False).status_code == 200
        wait_for(lambda: len(api.ephemerals("U0BEN")) >= 3, what="answers to the commands")
        notes = [str(e) for e in api.ephemerals("U0BEN")]
        assert any("No patient in care with the code P-" in n for n in notes)
        assert any("No patient with the code P-NOPE" in n for n in notes)
        api.slash_command("U0PCP", "/consult")
        wait_for(lambda: api.views("U0PCP"), what="the consult modal")
        values = consult_values(f"{code}\x00")
        values["note"] = {"value": "in the room\x00 now"}
        assert api.submit_view("U0PCP", "consult", values).status_code == 200
    with services.store.engine.connect() as conn:
        [(note, count)] = conn.execute(select(HANDOFF.c.note, func.count()).group_by(HANDOFF.c.note)).all()
    assert (note, count) == ("in the room now", 1)
