"""A page is posted once: a row tried before (a crash, a timeout) is looked for in the channel before posting."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from sqlalchemy import select

from bot.adapters.telegram.outbound import Outcome
from bot.store.tables import OUTBOX

from bot.worker.delivery import DeliveryWorker
from tests.integration.test_handoffs import paged_patient, slack_rows
from tests.integration.test_slack_adapter import DUTY, PAGE, deliver_all, row, workspace


def test_a_page_tried_before_is_found_in_the_channel_and_not_posted_again():
    api = workspace()
    first = row("page", PAGE, row_id=7)
    outcomes = deliver_all(api, [(first, None), (replace(first, attempts=1), None)])
    assert [o.kind for o in outcomes] == ["sent", "sent"]
    assert outcomes[1].message_id == outcomes[0].message_id
    assert len(api.messages(DUTY)) == 1 and len(api.calls_of("chat.postMessage")) == 1


def test_a_page_tried_before_but_never_posted_is_posted_and_another_rows_page_does_not_count():
    api = workspace()
    other = row("page", PAGE, row_id=7)
    tried = row("page", PAGE, row_id=8, ref="H1")  # the same handoff paged again (e.g. raised to crisis)
    outcomes = deliver_all(api, [(other, None), (replace(tried, attempts=1), None)])
    assert outcomes[1].kind == "sent" and outcomes[1].message_id != outcomes[0].message_id
    assert len(api.messages(DUTY)) == 2


def test_without_permission_to_read_the_channel_the_page_is_posted_rather_than_lost():
    api = workspace()
    api.fail_next("conversations.history", error="missing_scope")
    [outcome] = deliver_all(api, [(replace(row("page", PAGE, row_id=7), attempts=1), None)])
    assert outcome.kind == "sent" and len(api.messages(DUTY)) == 1


def test_a_slack_outage_while_looking_is_retried_not_given_up():
    api = workspace()
    api.fail_next("conversations.history", status=503)
    [outcome] = deliver_all(api, [(replace(row("page", PAGE, row_id=7), attempts=1), None)])
    assert outcome.kind == "transient" and api.messages(DUTY) == []


class FakeSlackSender:
    """Records, for each row it is asked to send, how many attempts the outbox held for it at that moment."""

    attempts_recorded_first = ("page",)

    def __init__(self, engine):
        self.engine, self.seen = engine, []

    async def deliver(self, message, original):
        with self.engine.connect() as conn:
            stored = conn.execute(select(OUTBOX.c.attempts).where(OUTBOX.c.id == message.id)).scalar_one()
        self.seen.append((message.kind, stored))
        return Outcome("sent", message_id=f"ts-{message.id}")


def test_the_worker_records_a_pages_attempt_before_sending_it(patient_chat):
    chat = paged_patient(patient_chat)
    services = chat.services
    sender = FakeSlackSender(services.store.engine)
    worker = DeliveryWorker(services.store.outbox, "slack", sender, services.clock)

    async def deliver() -> None:
        await worker.run_once()
        worker.record()

    asyncio.run(deliver())
    assert ("page", 1) in sender.seen  # a crash during the post leaves a row that says it was tried
    assert all(stored == 0 for kind, stored in sender.seen if kind != "page")
    assert slack_rows(services) == []
