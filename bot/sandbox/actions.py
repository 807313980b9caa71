"""What the trainer does on the page, played through the stand-ins' user side so CareBridge sees real traffic."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from bot.sandbox.day import ClinicDay
from bot.sandbox.modals import submission_values
from bot.sandbox.phones import Phone
from bot.services.enrollment import OPEN_ENROLLMENT_PREFIX, create_enrollment_token
from bot.standins.slack.surfaces import answer_submission
from bot.standins.slack.users import SlackRequest

HOW = ("link", "code", "blank")  # a one-time enrollment link, the clinic's open code, or a phone that says nothing yet
LINK_DAYS = 7


class ActionRefused(Exception):
    """The page asked for something the stand-ins cannot do (a vanished button, a closed form, a bad value)."""


async def new_patient(day: ClinicDay, clinic_slug: str, how: str = "link") -> Phone:
    """Give a new patient a phone and, unless blank, send /start with a fresh link token or the clinic code."""
    config = day.services.flow.config
    clinic = next((c for c in config.clinics if c.slug == clinic_slug), None)
    if clinic is None or how not in HOW:
        raise ActionRefused("unknown clinic or way of enrolling")
    if how == "code" and not clinic.open_enrollment:
        raise ActionRefused(f"{clinic.name} does not allow open enrollment: use a link")
    phone = day.phones.add(clinic.slug)
    if how == "link":
        token = await asyncio.to_thread(create_enrollment_token, day.services, clinic.slug, None, LINK_DAYS)
        patient_types(day, phone.chat_id, f"/start {token}")
    elif how == "code":
        patient_types(day, phone.chat_id, f"/start {OPEN_ENROLLMENT_PREFIX}{clinic.slug}")
    return phone


def _phone(day: ClinicDay, chat_id: int) -> Phone:
    try:
        return day.phones.get(chat_id)  # only the sandbox's own patients
    except KeyError as exc:
        raise ActionRefused("no such patient") from exc


def patient_types(day: ClinicDay, chat_id: int, text: str) -> None:
    """Send a text message from the patient's phone."""
    _phone(day, chat_id)
    if not text.strip():
        raise ActionRefused("type something first")
    update = day.telegram.user_sends(chat_id, text)
    day.phones.typed(chat_id, update["message"]["message_id"], text)


def patient_presses(day: ClinicDay, chat_id: int, message_id: int, data: str) -> None:
    """Press an inline button under one of the bot's messages in the patient's chat."""
    _phone(day, chat_id)
    try:
        day.telegram.user_presses(chat_id, message_id, data)
    except (LookupError, ValueError) as exc:
        raise ActionRefused("that button is no longer there") from exc


async def _deliver(day: ClinicDay, request: SlackRequest, what: str, refused: dict[int, str] | None = None
                   ) -> httpx.Response:
    """Post a signed Slack request to CareBridge as Slack would; a refusal or no answer becomes ActionRefused."""
    try:
        response = await day.slack.asend(request)
    except httpx.HTTPError as exc:
        raise ActionRefused(f"CareBridge did not answer {what}: press Reset to start it again") from exc
    if response.status_code >= 300:
        raise ActionRefused((refused or {}).get(response.status_code)
                            or f"CareBridge answered {response.status_code} to {what}")
    return response


async def clinician_presses(day: ClinicDay, user: str, channel: str, ts: str, action_id: str,
                            value: str | None, block_id: str | None = None) -> None:
    """Press a button under a Slack message as the chosen clinician."""
    try:
        request = day.slack.make_button_press(user, channel, ts, action_id, value, block_id=block_id)
    except (LookupError, ValueError) as exc:
        raise ActionRefused("that message or button is no longer there") from exc
    await _deliver(day, request, "the button press")


async def clinician_command(day: ClinicDay, user: str, line: str, channel: str | None) -> None:
    """Type a slash command (such as /consult or /oncall now) as the chosen clinician."""
    command, _, text = line.strip().partition(" ")
    if not command.startswith("/") or len(command) < 2:
        raise ActionRefused("CareBridge listens to slash commands here: /consult, /oncall, /registry")
    request = day.slack.make_slash_command(user, command, text.strip(), channel)
    unknown = f"{command} is not a valid command. CareBridge answers /consult, /oncall and /registry"
    await _deliver(day, request, command, {404: unknown})  # Slack refuses commands the app does not declare


async def open_home(day: ClinicDay, user: str) -> None:
    """Open the App Home tab as the chosen clinician (Slack sends app_home_opened)."""
    await _deliver(day, day.slack.make_event("app_home_opened", {"user": user}), "opening the Home tab")


async def submit_modal(day: ClinicDay, user: str, view_id: str, answers: dict[str, Any]) -> dict[str, str]:
    """Submit the clinician's open modal with the page's answers; return the app's field errors (none: closed)."""
    stack = day.slack.views(user)
    view = next((v for v in stack if v["id"] == view_id), None)
    if view is None:
        raise ActionRefused("that form is no longer open")
    request = day.slack.make_view_submission(user, view_id, submission_values(view, answers))
    response = await _deliver(day, request, "the form")
    try:
        answer = json.loads(response.content) if response.content.strip() else None
    except ValueError:
        answer = None
    answer_submission(day.slack.state, user, view_id, answer)
    if isinstance(answer, dict) and answer.get("response_action") == "errors":
        return {str(k): str(v) for k, v in (answer.get("errors") or {}).items()}
    return {}


def close_modal(day: ClinicDay, user: str, view_id: str) -> None:
    """Press Cancel on the clinician's top modal: Slack closes it without telling the app (no notify_on_close)."""
    with day.slack.state.lock:
        stack = day.slack.state.views.get(user, [])
        index = next((i for i, v in enumerate(stack) if v["id"] == view_id), None)
        if index is not None:
            del stack[index:]
