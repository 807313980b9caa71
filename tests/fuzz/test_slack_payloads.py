"""Signed Slack requests with made-up contents, through the real bolt app: never a 5xx, never an exception in a
listener, and nothing stored unless the request is one a clinician may make (refusals are audited, nothing else)."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.adapters.slack.blocks import ACTION_PREFIX
from bot.services.handoffs import ACTIONS
from bot.services.oncall_command import HANDOVER, TAKE
from bot.store.tables import AUDIT
from tests.e2e.telegram_harness import wait_for
from tests.fuzz.hostile import SQL_LOOKING, hostile_text, snapshot
from tests.fuzz.slack_rig import CHANNEL, ROSTER, slack_clinic

pytestmark = pytest.mark.fuzz
SKIP = {"inboundevent", "auditlog"}
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
slack_text = st.one_of(st.text(max_size=60), st.sampled_from(SQL_LOOKING), st.text(min_size=2_000, max_size=3_000))
users = st.one_of(st.sampled_from(ROSTER + ("U0STRANGER", "", "W0000", "U0DANA\u202e")), st.text(max_size=15))


def audit_actions(services) -> list[str]:
    with services.store.engine.connect() as conn:
        return list(conn.execute(select(AUDIT.c.action).order_by(AUDIT.c.id)).scalars())


def test_made_up_button_presses_are_acked_and_change_nothing():
    with slack_clinic() as rig:
        actions = st.one_of(st.sampled_from([ACTION_PREFIX + a for a in ACTIONS]), st.text(max_size=40),
                            st.text(max_size=30).map(lambda rest: ACTION_PREFIX + rest))
        values = st.one_of(st.sampled_from([rig.handoff, rig.handoff.lower(), "H-9999", "", rig.handoff + ":x"]),
                           slack_text)

        @FUZZ
        @given(user=users, action_id=actions, value=values)
        def check(user: str, action_id: str, value: str) -> None:
            assume(not (value == rig.handoff and user in ROSTER and action_id in ("handoff:accept", "handoff:decline")))
            before, audited, done = snapshot(rig.services, SKIP), audit_actions(rig.services), rig.finished.count
            request = rig.api.make_button_press(user, CHANNEL, rig.page_ts, action_id, value, require_button=False)
            response = rig.api.send(request)
            assert response.status_code in (200, 404), (user, action_id, value, response.status_code)
            if response.status_code == 200:
                assert re.match(f"^{re.escape(ACTION_PREFIX)}", action_id)
                rig.finished.wait_past(done)
            assert snapshot(rig.services, SKIP) == before, (user, action_id, value)
            new = audit_actions(rig.services)[len(audited):]
            assert set(new) <= {"handoff_refused"}, new  # someone off the roster pressed: on record, nothing else
            assert rig.errors.records == []

        check()


def test_made_up_slash_commands_are_answered_privately_and_change_nothing():
    with slack_clinic() as rig:

        @FUZZ
        @given(user=users, command=st.sampled_from(["/oncall", "/registry"]), text=st.one_of(
            slack_text, hostile_text.filter(lambda t: len(t) < 3_000),
            st.builds("{} {}".format, st.sampled_from(["start", "take", "give", "who"]), slack_text)))
        def check(user: str, command: str, text: str) -> None:
            first = text.split()[0].lower() if text.split() else ""
            assume(not (command == "/oncall" and first in TAKE + HANDOVER))
            assume(rig.patient not in text.upper())
            before, seen = snapshot(rig.services, SKIP), len(rig.api.responses())
            response = rig.api.send(rig.api.make_slash_command(user or "U0STRANGER", command, text))
            assert response.status_code == 200, (user, command, text[:80])
            rig.wait_for_responses(seen)  # every answer reaches the caller; an exception would leave none
            assert snapshot(rig.services, SKIP) == before, (user, command, text[:80])
            assert rig.errors.records == []

        check()


def test_made_up_consult_forms_come_back_with_field_errors_and_page_nobody():
    with slack_clinic() as rig:
        api = rig.api
        assert api.slash_command("U0PCP", "/consult").status_code == 200
        wait_for(lambda: api.views("U0PCP"), what="the consult modal")
        urgency = st.one_of(st.sampled_from(["routine", "urgent", "crisis", "", "CRISIS"]), st.text(max_size=20))

        @FUZZ
        @given(patient=slack_text, reason=st.one_of(slack_text, st.just("Panic attacks")), urgency=urgency,
               note=slack_text, in_room=st.booleans())
        def check(patient: str, reason: str, urgency: str, note: str, in_room: bool) -> None:
            assume(patient.strip().upper() != rig.patient)
            before = snapshot(rig.services, SKIP)
            chosen = [{"value": "yes"}] if in_room else []
            values = {"patient": {"value": patient}, "reason": {"value": reason}, "note": {"value": note},
                      "urgency": {"value": {"type": "radio_buttons", "selected_option": {"value": urgency}}},
                      "in_room": {"value": {"type": "checkboxes", "selected_options": chosen}}}
            response = api.send(api.make_view_submission("U0PCP", "consult", values))
            assert response.status_code == 200, response.status_code
            answer = response.json()
            assert answer["response_action"] == "errors" and set(answer["errors"]) <= {"patient", "reason",
                                                                                      "urgency", "note"}, answer
            assert snapshot(rig.services, SKIP) == before
            assert rig.errors.records == [] and api.views("U0PCP")  # the form stays open to be corrected

        check()
