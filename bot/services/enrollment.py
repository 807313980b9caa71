"""Enrollment: a patient joins through a one-time link, an open clinic code, or the console."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING

from bot.domain.effects import REPLY, Say
from bot.domain.events import Event, PatientCommand
from bot.services.ports import PatientRef, UnitOfWork

if TYPE_CHECKING:
    from bot.services.handle import Services

OPEN_ENROLLMENT_PREFIX = "c-"


def token_hash(token: str) -> str:
    """Return the stored form of an enrollment token (the token itself is never stored)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def enroll_from_start(services: Services, uow: UnitOfWork, event: Event, now: datetime) -> PatientRef | None:
    """Enroll an unknown chat that sent /start with a valid token or open clinic code; else say why not."""
    argument = event.argument.strip() if isinstance(event, PatientCommand) and event.command == "start" else ""
    clinic_slug, external_ref, patient_id = None, None, None
    if argument.startswith(OPEN_ENROLLMENT_PREFIX):
        slug = argument[len(OPEN_ENROLLMENT_PREFIX):]
        if any(c.slug == slug and c.open_enrollment for c in services.flow.config.clinics):
            clinic_slug = slug
    elif argument:
        redeemed = uow.redeem_token(token_hash(argument), now)
        if redeemed is not None:
            clinic_slug, external_ref, patient_id = redeemed
    if clinic_slug is None:
        template = "link_invalid" if argument else "not_enrolled"
        locale = "en"
        message = services.presenter.patient_message(Say(template, {}, (), REPLY), locale)
        uow.queue_direct(event.platform, event.chat_id, message, REPLY, now)
        return None
    if patient_id is not None:  # a link made for a patient the team already knows (a PCP's consult)
        uow.intake.link_chat(patient_id, event.platform, event.chat_id, now)
        return uow.patient_for_chat(event.platform, event.chat_id)
    return new_patient(services, uow, clinic_slug, event.platform, event.chat_id, now, external_ref)


def new_patient(
    services: Services, uow: UnitOfWork, clinic_slug: str, platform: str, chat_id: str, now: datetime,
    external_ref: str | None = None,
) -> PatientRef:
    """Create a patient with a fresh pseudonymous code, in the clinic's language."""
    clinic = services.flow.clinic(clinic_slug)
    code = uow.unused_patient_code(services.ids)
    return uow.create_patient(clinic.slug, clinic.name, platform, chat_id, clinic.locale, now, code, external_ref)


def enroll_chat(services: Services, clinic_slug: str, platform: str, chat_id: str, external_ref: str | None = None) -> str:
    """Enroll a chat directly (console, staff-assisted) and return the patient's code."""
    now = services.now()
    with services.store.unit_of_work() as uow:
        existing = uow.patient_for_chat(platform, chat_id)
        if existing is not None:
            return existing.code
        patient = new_patient(services, uow, clinic_slug, platform, chat_id, now, external_ref)
        uow.commit()
        return patient.code


def create_enrollment_token(services: Services, clinic_slug: str, external_ref: str | None, valid_days: float) -> str:
    """Create a single-use enrollment token for a clinic and return it (only its hash is stored)."""
    import secrets
    from datetime import timedelta

    clinic = services.flow.clinic(clinic_slug)
    token = secrets.token_urlsafe(24)
    now = services.now()
    with services.store.unit_of_work() as uow:
        uow.add_enrollment_token(token_hash(token), clinic.slug, clinic.name, external_ref, now, now + timedelta(days=valid_days))
        uow.commit()
    return token


def start_link(bot_username: str, start_parameter: str) -> str:
    """Return the Telegram deep link that opens the bot with /start <parameter>."""
    return f"https://t.me/{bot_username}?start={start_parameter}"
