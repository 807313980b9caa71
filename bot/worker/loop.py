"""Run the worker: fire due timers and deliver the outbox, each platform in its own loop, until asked to stop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable

from bot.metrics import count_timers
from bot.services.handle import Handled, Services
from bot.services.ports import OutboundMessage
from bot.services.timers import fire_timers
from bot.worker.delivery import DeliveryWorker

IDLE_SECONDS = 0.25
TIMER_SECONDS = 1.0  # reminders are set in hours and escalations in minutes: looking once a second is plenty


class Worker:
    """Timers and one delivery loop per platform (a slow platform never holds up another); `wake()` hurries them."""

    def __init__(self, services: Services, deliveries: list[DeliveryWorker], idle_seconds: float = IDLE_SECONDS):
        self.services = services
        self.deliveries = deliveries
        self.idle_seconds = idle_seconds
        self._wakes = [asyncio.Event() for _ in deliveries]

    def wake(self, queued: Iterable[OutboundMessage] | None = None) -> None:
        """Queue rows just committed and deliver them now (None: look at the outbox for them)."""
        queued = None if queued is None else tuple(queued)
        for delivery, wake in zip(self.deliveries, self._wakes, strict=True):
            if delivery.offer(queued):
                wake.set()

    def handled(self, handled: Handled) -> None:
        """Deliver what an event queued (pass as `after` to the adapters)."""
        self.wake(handled.queued)

    async def fire_timers(self) -> int:
        """Fire the timers due now and hand their messages to the deliveries; return how many fired."""
        applied = await asyncio.to_thread(fire_timers, self.services)
        count_timers(len(applied))
        for handled in applied:
            self.handled(handled)
        return len(applied)

    async def run(self, stop: asyncio.Event) -> None:
        """Run every loop until `stop` is set."""
        loops = [self._timers(stop)] + [self._deliver(d, w, stop) for d, w in zip(self.deliveries, self._wakes, strict=True)]
        tasks = [asyncio.create_task(loop) for loop in loops]
        stopped = asyncio.create_task(stop.wait())
        stopped.add_done_callback(lambda _: [wake.set() for wake in self._wakes])
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks + [stopped]:
                task.cancel()
            await asyncio.gather(*tasks, stopped, return_exceptions=True)
            for delivery in self.deliveries:
                delivery.close()

    async def _timers(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            while await self.fire_timers() and not stop.is_set():
                pass  # a batch fired: more may be due (a fan-out of check-ins)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(TIMER_SECONDS):
                    await stop.wait()

    async def _deliver(self, delivery: DeliveryWorker, wake: asyncio.Event, stop: asyncio.Event) -> None:
        """Send what may go; sleep until woken, until a held row may go, or a while (to look at the outbox)."""
        while not stop.is_set():
            wake.clear()
            if await delivery.run_once():
                await asyncio.sleep(0)
                continue
            wait = delivery.seconds_to_next()
            delivery.sleeping_until = asyncio.get_running_loop().time() + (
                self.idle_seconds if wait is None else min(wait, self.idle_seconds))
            try:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout_at(delivery.sleeping_until):
                        await wake.wait()
            finally:
                delivery.sleeping_until = None
