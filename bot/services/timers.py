"""Fire due timers (reminders, expiry) through the same handle() as every other event."""

from __future__ import annotations

from bot.domain.events import TimerDue
from bot.services.handle import Services, handle


def fire_due_timers(services: Services) -> int:
    """Handle every timer due now; return how many were applied."""
    applied = 0
    for timer_id in services.store.due_timer_ids(services.now()):
        event = TimerDue(key=f"timer:{timer_id}", timer_id=timer_id, kind="", patient_code="", screening_ref=None)
        if handle(services, event).status == "applied":
            applied += 1
    return applied
