"""Fire due timers: reminders and expiry through handle(), page escalations through the handoff desk."""

from __future__ import annotations

from bot.domain.events import TimerDue
from bot.services.handle import Handled, Services, handle
from bot.services.handoffs import escalate_handoff

ESCALATE = "escalate"
BATCH = 100  # timers claimed at a time: a fan-out of check-ins is fired and delivered in slices


def fire_timers(services: Services, limit: int = BATCH) -> list[Handled]:
    """Claim and handle up to `limit` timers due now; return how each applied one went (with its messages)."""
    applied = []
    for timer_id, kind in services.store.claim_due_timers(services.now(), limit):
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
    fired = 0
    while batch := fire_timers(services):
        fired += len(batch)
    return fired
