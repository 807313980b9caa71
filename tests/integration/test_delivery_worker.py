"""The delivery worker: urgency first, one chat's messages in order, limits, retries and blocked patients."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import insert, select

from bot.adapters.telegram.outbound import Outcome
from bot.domain.effects import CRISIS, REMINDER, REPLY
from bot.domain.events import PatientCommand
from bot.services.enrollment import enroll_chat
from bot.services.handle import handle
from bot.store.tables import AUDIT, OUTBOX, PATIENT
from bot.worker import delivery as delivery_module
from bot.worker.delivery import DeliveryWorker
from bot.worker.pace import TICK_SECONDS, RateLimits
from bot.worker.loop import Worker

UNLIMITED = RateLimits(global_per_second=1000, global_burst=1000, per_chat_per_second=1000, per_chat_burst=1000)


class FakeSender:
    """Record deliveries; answer with scripted outcomes (default: sent)."""

    def __init__(self):
        self.delivered: list[tuple[str, str]] = []
        self.script: dict[str, list[Outcome]] = {}

    async def deliver(self, message, original):
        self.delivered.append((message.recipient, message.payload["text"]))
        outcomes = self.script.get(message.payload["text"])
        return outcomes.pop(0) if outcomes else Outcome("sent", message_id=str(len(self.delivered)))


def queue(services, recipient: str, text: str, priority: int, patient_id: int | None = None) -> None:
    now = services.now()
    with services.store.engine.begin() as conn:
        conn.execute(insert(OUTBOX).values(
            channel="patient", platform="telegram", recipient=recipient, patient_id=patient_id, kind="text",
            priority=priority, payload={"text": text, "buttons": []}, status="pending", attempts=0,
            created_at=now, next_attempt_at=now))


def worker(services, sender, limits=UNLIMITED) -> DeliveryWorker:
    return DeliveryWorker(services.store.outbox, "telegram", sender, services.clock, limits)


_LOOP = asyncio.new_event_loop()  # one loop for the module: the worker's rate limiters belong to a loop


def drain(delivery: DeliveryWorker, passes: int = 10) -> None:
    """Run some passes of the worker."""

    async def run():
        for _ in range(passes):
            await delivery.run_once()
        delivery.record()

    _LOOP.run_until_complete(run())


def teardown_module() -> None:
    _LOOP.close()


def test_crisis_goes_first_and_each_chat_keeps_its_order(make_services):
    services = make_services()
    queue(services, "1", "reminder", REMINDER)
    queue(services, "1", "reply one", REPLY)
    queue(services, "2", "other chat", REPLY)
    queue(services, "1", "crisis resources", CRISIS)
    queue(services, "1", "reply two", REPLY)
    sender = FakeSender()
    drain(worker(services, sender))
    chat1 = [text for chat, text in sender.delivered if chat == "1"]
    assert chat1 == ["crisis resources", "reply one", "reply two", "reminder"]
    assert sender.delivered[0] == ("1", "crisis resources")
    assert services.store.pending_messages("patient") == []


def test_the_global_limit_holds_within_one_pass(make_services):
    services = make_services()
    for chat in range(40):
        queue(services, str(chat), f"hello {chat}", REPLY)
    sender = FakeSender()
    drain(worker(services, sender, RateLimits()), passes=1)
    assert len(sender.delivered) == RateLimits().global_burst


def test_a_chat_keeps_its_pace_while_the_worker_forgets_the_chats_it_no_longer_serves(make_services, monkeypatch):
    monkeypatch.setattr(delivery_module, "RENEW_SECONDS", 0.0)  # look over the chats on every pass
    monkeypatch.setattr(delivery_module, "RECENT_SECONDS", 0.0)  # a chat with nothing queued counts as quiet at once
    services = make_services()
    queue(services, "5", "first", REPLY)
    queue(services, "5", "second", REPLY)
    sender = FakeSender()
    slow = RateLimits(global_per_second=1000, global_burst=1000, per_chat_per_second=0.1, per_chat_burst=2)
    delivery = worker(services, sender, slow)
    drain(delivery)  # the chat's burst is spent, and then it has nothing queued for some passes
    queue(services, "5", "third", REPLY)
    delivery.offer(None)
    drain(delivery)
    assert [text for _, text in sender.delivered] == ["first", "second"]  # the third waits ten seconds


def test_a_chat_held_by_its_limit_goes_on_the_tick_and_wakes_the_sleeping_loop_only_when_it_must(make_services):
    services = make_services()
    for chat, text in (("31", "first"), ("31", "second"), ("32", "other chat")):
        queue(services, chat, text, REPLY)
    sender = FakeSender()
    ten_a_second = RateLimits(global_per_second=1000, global_burst=1000, per_chat_per_second=10, per_chat_burst=1)
    delivery = worker(services, sender, ten_a_second)

    def offered(chat: str, text: str):
        queue(services, chat, text, REPLY)
        rows = services.store.outbox.messages(services.store.outbox.pending_ids("telegram"))
        return [message for message in rows if message.payload["text"] == text]

    async def run():
        loop = asyncio.get_running_loop()
        await delivery.run_once()
        await delivery.run_once()  # chat 31's second row must wait a tenth of a second: it waits for a tick
        assert [text for _, text in sender.delivered] == ["first", "other chat"]
        until = loop.time() + delivery.seconds_to_next()
        assert abs(until - round(until / TICK_SECONDS) * TICK_SECONDS) < 1e-3
        delivery.sleeping_until = until  # the loop sleeps until that tick
        assert delivery.offer(offered("31", "third")) is False  # its chat goes on that tick anyway
        assert delivery.offer(offered("33", "new chat")) is True  # may go now
        delivery.sleeping_until = loop.time() + 5
        assert delivery.offer(offered("32", "sooner")) is True  # free within a tick, before the loop would wake
        delivery.sleeping_until = None
        await asyncio.sleep(max(0.0, until - loop.time()) + 0.01)  # a timer may fire a hair before its time
        await delivery.run_once()
        assert sorted(text for _, text in sender.delivered[2:]) == ["new chat", "second", "sooner"]  # one pass

    _LOOP.run_until_complete(run())


def test_retry_after_holds_back_the_chat_until_then(make_services, clock):
    services = make_services()
    queue(services, "7", "first", REPLY)
    queue(services, "7", "second", REPLY)
    sender = FakeSender()
    sender.script["first"] = [Outcome("retry", retry_after=30)]
    delivery = worker(services, sender)
    drain(delivery)
    assert sender.delivered == [("7", "first")]  # "second" did not overtake it
    clock.advance(seconds=31)
    drain(delivery)
    assert sender.delivered == [("7", "first"), ("7", "first"), ("7", "second")]


def test_network_errors_back_off_exponentially(make_services, clock):
    services = make_services()
    queue(services, "8", "flaky", REPLY)
    sender = FakeSender()
    sender.script["flaky"] = [Outcome("transient"), Outcome("transient"), Outcome("transient")]
    delivery = worker(services, sender)
    for wait_seconds in (1, 2, 4):
        drain(delivery)
        with services.store.engine.connect() as conn:
            row = conn.execute(select(OUTBOX.c.attempts, OUTBOX.c.next_attempt_at)).one()
        due = row.next_attempt_at.replace(tzinfo=clock.moment.tzinfo)
        assert due == clock.moment + timedelta(seconds=wait_seconds)
        clock.advance(seconds=wait_seconds)
    drain(delivery)
    assert [text for _, text in sender.delivered] == ["flaky"] * 4
    assert services.store.pending_messages("patient") == []


def test_a_patient_who_blocked_the_bot_is_unreachable_and_audited(make_services):
    services = make_services()
    enroll_chat(services, "mood", "telegram", "9")
    with services.store.engine.connect() as conn:
        patient_id = conn.execute(select(PATIENT.c.id)).scalar_one()
    queue(services, "9", "blocked", REPLY, patient_id)
    queue(services, "9", "never sent", REPLY, patient_id)
    sender = FakeSender()
    sender.script["blocked"] = [Outcome("unreachable")]
    drain(worker(services, sender))
    assert [text for _, text in sender.delivered] == ["blocked"]
    with services.store.engine.connect() as conn:
        assert conn.execute(select(PATIENT.c.status)).scalar_one() == "unreachable"
        actions = conn.execute(select(AUDIT.c.action).where(AUDIT.c.patient_id == patient_id)).scalars().all()
        statuses = conn.execute(select(OUTBOX.c.status)).scalars().all()
    assert "patient_unreachable" in actions
    assert statuses == ["failed", "failed"]


def test_rows_an_event_queued_are_sent_from_memory_and_other_writers_rows_after_a_look_at_the_outbox(make_services):
    services = make_services()
    enroll_chat(services, "mood", "telegram", "11")
    sender = FakeSender()
    delivery = DeliveryWorker(services.store.outbox, "telegram", sender, services.clock, UNLIMITED, rescan_seconds=3600)
    drain(delivery, passes=1)  # the first pass looks at the outbox; the next look is an hour away
    handled = handle(services, PatientCommand("u1", "telegram", "11", "start"))
    assert handled.queued and all(message.recipient == "11" for message in handled.queued)
    queue(services, "12", "from another process", REPLY)
    delivery.offer(handled.queued)
    drain(delivery)
    assert [chat for chat, _ in sender.delivered] == ["11"] * len(handled.queued)
    delivery.offer(None)  # a writer that does not know its rows asks for a look
    drain(delivery)
    assert sender.delivered[-1] == ("12", "from another process")
    assert services.store.pending_messages("patient") == []


def test_a_row_found_by_a_look_at_the_outbox_and_then_offered_is_sent_once(make_services):
    services = make_services()
    enroll_chat(services, "mood", "telegram", "13")
    handled = handle(services, PatientCommand("u2", "telegram", "13", "start"))
    sender = FakeSender()
    delivery = worker(services, sender)
    drain(delivery)  # its first pass finds the rows in the outbox and sends them
    delivery.offer(handled.queued)  # the offer of the same rows arrives late
    drain(delivery)
    assert len(sender.delivered) == len(handled.queued)


def test_the_running_worker_records_deliveries_within_a_moment_and_the_rest_when_it_stops(make_services):
    services = make_services()
    queue(services, "21", "first", REPLY)
    sender = FakeSender()
    looper = Worker(services, [worker(services, sender)])

    async def run():
        stop = asyncio.Event()
        running = asyncio.create_task(looper.run(stop))
        for _ in range(200):
            await asyncio.sleep(0.01)
            if not services.store.pending_messages("patient"):
                break
        recorded_while_running = services.store.pending_messages("patient") == []
        queue(services, "22", "second", REPLY)
        looper.wake()  # a writer that does not know its row ids
        for _ in range(200):
            await asyncio.sleep(0.01)
            if len(sender.delivered) == 2:
                break
        stop.set()
        await running
        return recorded_while_running

    assert _LOOP.run_until_complete(run()) is True
    assert [text for _, text in sender.delivered] == ["first", "second"]
    assert services.store.pending_messages("patient") == []
