"""On-call cover in the caller's transaction: who took or was handed a role, and until when."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select, update

from bot.services.ports import Cover
from bot.store.tables import AUDIT, ONCALL, OUTBOX


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class SqlOnCall:
    """Cover reads and writes on one connection (the unit of work's)."""

    def __init__(self, conn: Connection):
        self.conn = conn

    def covers(self, clinic: str, now: datetime) -> list[Cover]:
        """Return the covers of a clinic in force now, the latest first."""
        rows = self.conn.execute(
            select(ONCALL).where(ONCALL.c.clinic == clinic, ONCALL.c.starts_at <= now, ONCALL.c.ends_at > now)
            .order_by(ONCALL.c.id.desc())
        )
        return [Cover(row.role, row.slack_id, _aware(row.starts_at), _aware(row.ends_at), row.set_by) for row in rows]

    def cover(self, clinic: str, role: str, slack_id: str, until: datetime, set_by: str, now: datetime) -> None:
        """Give a role to slack_id from now until `until`, ending any cover of that role in force."""
        self.conn.execute(update(ONCALL).where(ONCALL.c.clinic == clinic, ONCALL.c.role == role,
                                               ONCALL.c.ends_at > now).values(ends_at=now))
        self.conn.execute(insert(ONCALL).values(clinic=clinic, role=role, slack_id=slack_id, starts_at=now,
                                                ends_at=until, set_by=set_by, created_at=now))

    def audit(self, actor: str, action: str, now: datetime, **detail) -> None:
        """Record a change of cover with who did it."""
        self.conn.execute(insert(AUDIT).values(at=now, actor=actor, action=action, patient_id=None, detail=detail))

    def post(self, channel: str, text: str, priority: int, now: datetime) -> int:
        """Queue a plain message to a Slack channel and return its outbox id."""
        return self.conn.execute(insert(OUTBOX).values(
            channel="clinic", platform="slack", recipient=channel, kind="post", priority=priority,
            payload={"channel": channel, "text": text}, status="pending", attempts=0, created_at=now,
            next_attempt_at=now,
        ).returning(OUTBOX.c.id)).scalar_one()
