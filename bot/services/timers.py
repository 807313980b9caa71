"""Fire due timers: reminders and expiry through handle(), page escalations through the handoff desk."""

from __future__ import annotations

from bot.domain.events import TimerDue
from bot.services.handle import Handled, Services, handle
from bot.services.handoffs import escalate_handoff

ESCALATE = "escalate"


def fire_timers(services: Services) -> list[Handled]:
    """Handle every timer due now; return how each applied one went (with the messages it queued)."""
    applied = []
    for timer_id, kind in services.store.due_timer_ids(services.now()):
        if kind == ESCALATE:
            reply = escalate_handoff(services, timer_id)
            handled = Handled(reply.status, queued=reply.queued)
        else:
            event = TimerDue(key=f"timer:{timer_id}", timer_id=timer_id, kind="", patient_code="", screening_ref=None)
            handled = handle(services, event)
        if handled.status == "applied":
            applied.append(handled)
    return applied


def fire_due_timers(services: Services) -> int:
    """Handle every timer due now; return how many were applied."""
    return len(fire_timers(services))
