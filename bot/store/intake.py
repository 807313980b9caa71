"""Staff-side intake in the caller's transaction: find or pre-create a patient, open a consult handoff."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, func, insert, or_, select

from bot.store.tables import AUDIT, CHAT_LINK, CLINIC, CONVERSATION, ENROLLMENT_TOKEN, HANDOFF, PATIENT


class SqlIntake:
    """Patient and consult writes made by clinicians, on one connection (the unit of work's)."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def clinic_id(self, slug: str, name: str) -> int:
        """Return a clinic's row id, adding the row the first time the clinic is used."""
        found = self.conn.execute(select(CLINIC.c.id).where(CLINIC.c.slug == slug)).scalar_one_or_none()
        if found is not None:
            return found
        return self.conn.execute(insert(CLINIC).values(slug=slug, name=name).returning(CLINIC.c.id)).scalar_one()

    def find_patient(self, clinic: str, code_or_ref: str) -> tuple[int, str] | None:
        """Return (id, code) of the clinic's patient with this pseudonymous code or clinic reference (MRN)."""
        wanted = code_or_ref.strip()
        query = (select(PATIENT.c.id, PATIENT.c.code).join(CLINIC, CLINIC.c.id == PATIENT.c.clinic_id)
                 .where(CLINIC.c.slug == clinic,
                        or_(func.upper(PATIENT.c.code) == wanted.upper(), PATIENT.c.external_ref == wanted))
                 .order_by(PATIENT.c.id.desc()))
        row = self.conn.execute(query).first()
        return (row.id, row.code) if row else None

    def new_patient(self, clinic_id: int, code: str, external_ref: str | None, locale: str, actor: str,
                    now: datetime) -> int:
        """Create a patient not yet linked to a chat (they join through an enrollment link bound to them)."""
        patient_id = self.conn.execute(insert(PATIENT).values(
            code=code, clinic_id=clinic_id, external_ref=external_ref, locale=locale, status="active", created_at=now,
        ).returning(PATIENT.c.id)).scalar_one()
        self.conn.execute(insert(CONVERSATION).values(patient_id=patient_id, state="new", context={}, updated_at=now))
        self.conn.execute(insert(AUDIT).values(at=now, actor=actor, action="patient_created", patient_id=patient_id,
                                               detail={"by": "consult"}))
        return patient_id

    def bind_token(self, token_hash: str, clinic_id: int, patient_id: int, now: datetime, expires_at: datetime) -> None:
        """Store an enrollment token (hashed) that links whoever redeems it to an existing patient."""
        self.conn.execute(insert(ENROLLMENT_TOKEN).values(token_hash=token_hash, clinic_id=clinic_id,
                                                          patient_id=patient_id, created_at=now, expires_at=expires_at))

    def link_chat(self, patient_id: int, platform: str, chat_id: str, now: datetime) -> None:
        """Link a chat to a patient created ahead of enrollment."""
        self.conn.execute(insert(CHAT_LINK).values(patient_id=patient_id, platform=platform, chat_id=chat_id,
                                                   created_at=now))
        self.conn.execute(insert(AUDIT).values(at=now, actor="system", action="patient_enrolled",
                                               patient_id=patient_id, detail={"platform": platform}))

    def open_consult(self, ref: str, patient_id: int, clinic_id: int, urgency: str, reason: str, requested_by: str,
                     in_room: bool, note: str | None, now: datetime) -> int:
        """Insert a consult handoff and return its id."""
        return self.conn.execute(insert(HANDOFF).values(
            ref=ref, patient_id=patient_id, clinic_id=clinic_id, urgency=urgency, reason=reason, source="consult",
            callback_requested=False, status="open", created_at=now, updated_at=now, requested_by=requested_by,
            in_room=in_room, note=note, rung=0,
        ).returning(HANDOFF.c.id)).scalar_one()
