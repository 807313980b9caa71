"""Read-only lists of handoffs for the clinicians' Home tab: the open pages and one clinician's handoffs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, Select, func, select

from bot.services.home import HandoffLine
from bot.store.tables import CLINIC, HANDOFF, PATIENT

OPEN = "open"

_COLUMNS = (
    HANDOFF.c.ref, CLINIC.c.slug, HANDOFF.c.urgency, HANDOFF.c.reason, PATIENT.c.code, HANDOFF.c.status,
    HANDOFF.c.rung, HANDOFF.c.created_at, HANDOFF.c.accepted_at,
)
_JOINED = HANDOFF.join(PATIENT, PATIENT.c.id == HANDOFF.c.patient_id).join(CLINIC, CLINIC.c.id == HANDOFF.c.clinic_id)


def _aware(moment: datetime | None) -> datetime | None:
    """Return a datetime read back from the database as UTC-aware (SQLite drops the zone)."""
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


class SqlCaseload:
    """Handoff lists on one connection (the unit of work's); nothing here writes."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def open_handoffs(self, clinics: Sequence[str], limit: int) -> tuple[list[HandoffLine], int]:
        """Return the open handoffs of these clinics, oldest first, and how many more there are."""
        where = (CLINIC.c.slug.in_(list(clinics)), HANDOFF.c.status == OPEN)
        return self._page(where, (HANDOFF.c.created_at, HANDOFF.c.id), limit)

    def accepted_by(self, user: str, clinics: Sequence[str], statuses: Sequence[str],
                    limit: int) -> tuple[list[HandoffLine], int]:
        """Return the handoffs a user accepted that are in one of these statuses, oldest acceptance first."""
        where = (CLINIC.c.slug.in_(list(clinics)), HANDOFF.c.accepted_by == user,
                 HANDOFF.c.status.in_(list(statuses)))
        return self._page(where, (HANDOFF.c.accepted_at, HANDOFF.c.id), limit)

    def _page(self, where: tuple, order: tuple, limit: int) -> tuple[list[HandoffLine], int]:
        if limit <= 0:
            return [], 0
        query: Select = select(*_COLUMNS).select_from(_JOINED).where(*where).order_by(*order).limit(limit)
        lines = [_line(row) for row in self.conn.execute(query)]
        if len(lines) < limit:
            return lines, 0
        total = self.conn.execute(select(func.count()).select_from(_JOINED).where(*where)).scalar_one()
        return lines, max(0, total - len(lines))


def _line(row) -> HandoffLine:
    return HandoffLine(ref=row.ref, clinic=row.slug, urgency=row.urgency, reason=row.reason, patient_code=row.code,
                       status=row.status, rung=row.rung, created_at=_aware(row.created_at),
                       accepted_at=_aware(row.accepted_at))
