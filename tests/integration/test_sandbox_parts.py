"""The sandbox's pieces: its clinic clock, the workspace it builds from the clinic file, and how it shows Slack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.bootstrap import load_flow_context
from bot.config import data_dir, settings
from bot.sandbox.clock import ShiftableClock, clinic_day_start
from bot.sandbox.modals import submission_values
from bot.sandbox.page_state import ahead
from bot.sandbox.slack_view import block_json, mrkdwn_text
from bot.sandbox.workspace import build_workspace, channels, clinicians
from bot.standins.slack_api import FakeSlackApi

NAMES = {"U0RDANA01": "Dana Ortiz, LCSW"}


@pytest.fixture(scope="module")
def config():
    example = data_dir("config") / "clinic.example.toml"  # what `carebridge sandbox` runs by default
    return load_flow_context(settings().model_copy(update={"carebridge_config": example})).config


def test_the_day_starts_an_hour_into_the_first_shift_on_the_next_working_day(config):
    riverside = config.clinic("riverside")  # Mon-Fri 08:00-17:00, America/Chicago (UTC-6 in November)
    saturday_night = datetime(2026, 11, 28, 23, 0, tzinfo=UTC)
    assert clinic_day_start(riverside, saturday_night) == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # Mon 09:00
    tuesday_evening = datetime(2026, 11, 24, 23, 30, tzinfo=UTC)
    assert clinic_day_start(riverside, tuesday_evening) == datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # same day


def test_a_clinic_without_shifts_starts_at_nine(config):
    no_team = config.clinic("riverside").model_copy(update={"slack": None})
    assert clinic_day_start(no_team, datetime(2026, 11, 28, 23, 0, tzinfo=UTC)).hour == 15  # 09:00 in Chicago


def test_the_clock_runs_from_its_start_at_real_pace_and_only_moves_forward():
    real = [datetime(2026, 1, 1, tzinfo=UTC)]
    clock = ShiftableClock(datetime(2026, 11, 24, 15, 0, tzinfo=UTC), now=lambda: real[0])
    real[0] += timedelta(seconds=30)
    assert clock() == datetime(2026, 11, 24, 15, 0, 30, tzinfo=UTC)
    assert clock.advance(timedelta(days=14)) == datetime(2026, 12, 8, 15, 0, 30, tzinfo=UTC)
    with pytest.raises(ValueError):
        clock.advance(timedelta(minutes=-1))
    assert clock.advanced == timedelta(days=14) and ahead(clock.advanced) == "+14 d"
    assert ahead(timedelta(hours=25, minutes=10)) == "+1 d 1 h 10 min" and ahead(timedelta(0)) == ""


def test_the_workspace_holds_the_clinic_files_channel_and_roster(config):
    slack = FakeSlackApi()
    try:
        build_workspace(slack, config)
        assert [c.id for c in channels(config)] == ["C0RIVERBH"]
        assert slack.state.channels["C0RIVERBH"]["name"] == "riverside-bh"
        people = {p.slack_id: (p.name, p.role) for p in clinicians(config)}
        assert people["U0RBEN001"] == ("Ben Okafor, PhD", "bh") and people["U0RPCP001"] == ("Dr. Pat Chen", "pcp")
        assert set(slack.state.users) == set(people)
        assert slack.state.users["U0RDANA01"]["real_name"] == "Dana Ortiz, LCSW"
    finally:
        slack.close()


def test_mrkdwn_reads_as_slack_shows_it():
    text = "<@U0RDANA01> <!channel> <https://video.example.org|video> <#C0RIVERBH|riverside-bh> a &lt; b &amp; c"
    assert mrkdwn_text(text, NAMES) == "@Dana Ortiz, LCSW @channel video #riverside-bh a < b & c"


def test_blocks_become_text_context_and_pressable_buttons():
    actions = {"type": "actions", "block_id": "handoff", "elements": [
        {"type": "button", "action_id": "handoff:accept", "value": "H-1", "style": "primary",
         "text": {"type": "plain_text", "text": "Accept"}}]}
    assert block_json(actions, NAMES) == [{"kind": "buttons", "buttons": [
        {"label": "Accept", "action_id": "handoff:accept", "value": "H-1", "style": "primary", "url": None,
         "block_id": "handoff"}]}]
    context = {"type": "context", "elements": [{"type": "mrkdwn", "text": "for <@U0RDANA01>"}]}
    assert block_json(context, NAMES) == [{"kind": "context", "text": "for @Dana Ortiz, LCSW"}]


def test_a_modal_submission_carries_the_chosen_options_as_slack_sends_them():
    option = {"text": {"type": "plain_text", "text": "Routine"}, "value": "routine"}
    view = {"blocks": [
        {"type": "input", "block_id": "reason", "element": {"type": "plain_text_input", "action_id": "value"}},
        {"type": "input", "block_id": "urgency", "element": {"type": "radio_buttons", "action_id": "value",
                                                             "options": [option]}},
        {"type": "input", "block_id": "in_room", "element": {"type": "checkboxes", "action_id": "value",
                                                             "options": [option]}}]}
    values = submission_values(view, {"reason": "Low mood", "urgency": "routine", "in_room": []})
    assert values == {"reason": {"value": {"type": "plain_text_input", "value": "Low mood"}},
                      "urgency": {"value": {"type": "radio_buttons", "selected_option": option}},
                      "in_room": {"value": {"type": "checkboxes", "selected_options": []}}}
