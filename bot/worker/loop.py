"""Run the worker: fire due timers and deliver the outbox, until asked to stop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

from bot.services.handle import Handled, Services
from bot.services.ports import OutboundMessage
from bot.services.timers import fire_timers
from bot.worker.delivery import DeliveryWorker

IDLE_SECONDS = 0.25
TIMER_SECONDS = 1.0  # timers are set in hours; looking once a second is plenty


class Worker:
    """Timers and deliveries in one loop; `wake()` makes it look again at once."""

    def __init__(self, services: Services, deliveries: list[DeliveryWorker], idle_seconds: float = IDLE_SECONDS):
        self.services = services
        self.deliveries = deliveries
        self.idle_seconds = idle_seconds
        self._wake = asyncio.Event()
        self._timers_checked = 0.0

    def wake(self, queued: Iterable[OutboundMessage] | None = None) -> None:
        """Queue rows just committed and deliver them now (None: look at the outbox for them)."""
        queued = None if queued is None else tuple(queued)
        for delivery in self.deliveries:
            delivery.offer(queued)
        self._wake.set()

    def handled(self, handled: Handled) -> None:
        """Deliver what an event queued (pass as `after` to the adapters)."""
        self.wake(handled.queued)

    async def run_once(self) -> int:
        """Fire due timers and send what may be sent; return how much was done."""
        fired = 0
        loop_time = asyncio.get_running_loop().time()
        if loop_time - self._timers_checked >= TIMER_SECONDS:
            self._timers_checked = loop_time
            applied = await asyncio.to_thread(fire_timers, self.services)
            for handled in applied:
                self.handled(handled)
            fired = len(applied)
        sent = 0
        for delivery in self.deliveries:
            sent += await delivery.run_once()
        return fired + sent

    async def run(self, stop: asyncio.Event) -> None:
        """Loop until `stop` is set; sleep only when there was nothing to do."""
        while not stop.is_set():
            if await self.run_once():
                await asyncio.sleep(0)
                continue
            self._wake.clear()
            waits = [self.idle_seconds] + [w for d in self.deliveries if (w := d.seconds_to_next()) is not None]
            waiters = [asyncio.create_task(self._wake.wait()), asyncio.create_task(stop.wait())]
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait(waiters, timeout=min(waits), return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
