"""Everything the page shows, as one JSON document: the clock, the patients' phones and the chosen clinician's Slack."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.sandbox.day import ClinicDay
from bot.sandbox.modals import modal_json, view_parts
from bot.sandbox.slack_view import BOT_NAME, conversation_json
from bot.sandbox.telegram_view import chat_json, phone_summary
from bot.sandbox.workspace import channels, clinicians, first_on_duty
from bot.standins.slack.records import BOT_USER_ID

HOME, DMS = "home", "dm"


def ahead(delta: timedelta) -> str:
    """Return how far the clock was moved forward, as '+2 weeks 1 d 3 h 10 min' (empty for none)."""
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    return "+" + " ".join(p for p in parts if p) if minutes or hours or days else ""


def clock_json(day: ClinicDay) -> dict[str, Any]:
    """Return the clinic time as the first clinic's wall clock shows it, and how far it was moved ahead."""
    config = day.services.flow.config
    clinic = next((c for c in config.clinics if c.slack is not None), config.clinics[0])
    local = day.clock().astimezone(ZoneInfo(clinic.timezone))
    return {"now": day.clock().isoformat(), "label": local.strftime("%a %d %b %Y, %H:%M"), "zone": clinic.timezone,
            "ahead": ahead(day.clock.advanced)}


def setup_json(day: ClinicDay) -> dict[str, Any]:
    """Return what only changes with a new day: clinics, their channels and the people one can be in Slack."""
    config = day.services.flow.config
    rooms = {c.clinic: c for c in channels(config)}
    return {"clinics": [{"slug": c.slug, "name": c.name, "open_enrollment": c.open_enrollment,
                         "channel": rooms[c.slug].id if c.slug in rooms else None} for c in config.clinics],
            "channels": [{"id": c.id, "name": c.name, "clinic": c.clinic_name} for c in rooms.values()],
            "clinicians": [{"id": p.slack_id, "name": p.name, "role": p.role, "clinic": p.clinic}
                           for p in clinicians(config)],
            "default_clinician": first_on_duty(config)}


def names_of(day: ClinicDay) -> dict[str, str]:
    """Return the display name of every Slack user id the page may meet."""
    return {BOT_USER_ID: BOT_NAME, **{p.slack_id: p.name for p in clinicians(day.services.flow.config)}}


def slack_json(day: ClinicDay, user: str | None, where: str, errors: dict) -> dict[str, Any]:
    """Return the chosen clinician's Slack: the open conversation or Home, their open modal, unread counts."""
    names = names_of(day)
    known = {c["id"] for c in setup_json(day)["channels"]}
    counts = {c: len(day.slack.messages(c)) for c in known}
    if user:
        counts[DMS] = len(day.slack.messages(day.slack.dm_channel(user)))
    body: dict[str, Any] = {"user": user, "where": where, "counts": counts, "messages": [], "home": None,
                            "modal": None}
    if where == HOME and user:
        home = day.slack.home(user)
        body["home"] = {"parts": view_parts(home, names)} if home else None
    elif where == DMS and user:
        body["messages"] = conversation_json(day.slack, day.slack.dm_channel(user), user, names, day.number)
    elif where in known:
        body["messages"] = conversation_json(day.slack, where, user, names, day.number)
    stack = day.slack.views(user) if user else []
    if stack:
        body["modal"] = modal_json(stack[-1], names, errors.get((user, stack[-1]["id"])))
    return body


def state_json(day: ClinicDay, chat_id: int | None, user: str | None, where: str, errors: dict) -> dict[str, Any]:
    """Return the whole page state for the chosen patient, clinician and Slack conversation."""
    phones = day.phones.all()
    chosen = next((p for p in phones if p.chat_id == chat_id), None)
    return {"day": day.number, "running": day.running, "error": _error(day), "clock": clock_json(day),
            "setup": setup_json(day), "patients": [phone_summary(day.telegram, p) for p in phones],
            "chat": chat_json(day.telegram, chosen) if chosen else None,
            "slack": slack_json(day, user, where, errors)}


def _error(day: ClinicDay) -> str | None:
    if day.error is not None:
        return f"CareBridge stopped: {type(day.error).__name__}: {day.error}"
    return None if day.running else "CareBridge is not running: press Reset"
