"""Fire due timers (reminders, expiry) through the same handle() as every other event."""

from __future__ import annotations

from bot.domain.events import TimerDue
from bot.services.handle import Handled, Services, handle


def fire_timers(services: Services) -> list[Handled]:
    """Handle every timer due now; return how each applied one went (with the messages it queued)."""
    applied = []
    for timer_id in services.store.due_timer_ids(services.now()):
        event = TimerDue(key=f"timer:{timer_id}", timer_id=timer_id, kind="", patient_code="", screening_ref=None)
        handled = handle(services, event)
        if handled.status == "applied":
            applied.append(handled)
    return applied


def fire_due_timers(services: Services) -> int:
    """Handle every timer due now; return how many were applied."""
    return len(fire_timers(services))
