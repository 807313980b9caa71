"""/metrics: the queue, late timers and waiting handoffs read from the database, this process's counters, no PHI."""

from __future__ import annotations

import warnings

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert, select
from starlette.applications import Starlette

from bot.domain.effects import REMINDER, REPLY
from bot.domain.events import ClinicianAction
from bot.metrics import CONTENT_TYPE_LATEST, count_delivery, count_event, count_timers, healthz_route, metrics_route
from bot.services.handoffs import act_on_handoff
from bot.store.db import make_engine
from bot.store.tables import HANDOFF, OUTBOX, PATIENT

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")  # httpx still works
    from starlette.testclient import TestClient

ITEM9_POSITIVE = ["I agree", "3", "3", "2", "2", "2", "2", "2", "1", "2"]  # PHQ-2 then PHQ-9 with item 9 = 2


def scrape(source, clock=None) -> tuple[str, dict[tuple[str, frozenset], float]]:
    """GET /metrics of an app with the route; return the text and every sample by name and labels."""
    with TestClient(Starlette(routes=[metrics_route(source, clock), healthz_route()])) as client:
        answer = client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"] == CONTENT_TYPE_LATEST
    samples = {(s.name, frozenset(s.labels.items())): s.value
               for family in text_string_to_metric_families(answer.text) for s in family.samples}
    return answer.text, samples


def value(samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def queue_telegram(services, text: str, priority: int) -> None:
    now = services.now()
    with services.store.engine.begin() as conn:
        conn.execute(insert(OUTBOX).values(
            channel="patient", platform="telegram", recipient="555", patient_id=None, kind="text", priority=priority,
            payload={"text": text, "buttons": []}, status="pending", attempts=0, created_at=now, next_attempt_at=now))


def paged_patient(patient_chat):
    """Return a chat at the team clinic whose PHQ-9 item 9 answer paged the team (urgent)."""
    chat = patient_chat("team")
    chat.start()
    for text in ITEM9_POSITIVE:
        chat.type(text)
    chat.deliver()
    return chat


@pytest.mark.store
def test_the_scrape_counts_the_queue_late_timers_and_waiting_handoffs_from_the_database(patient_chat, clock):
    chat = paged_patient(patient_chat)
    services = chat.services
    queue_telegram(services, "reply one", REPLY)
    queue_telegram(services, "reply two", REPLY)
    queue_telegram(services, "a reminder", REMINDER)
    _, now = scrape(services.store, clock)
    assert value(now, "carebridge_database_up") == 1
    assert value(now, "carebridge_outbox_pending", platform="slack", priority="crisis") == 1  # the page
    assert value(now, "carebridge_outbox_pending", platform="telegram", priority="reply") == 2
    assert value(now, "carebridge_outbox_pending", platform="telegram", priority="reminder") == 1
    assert value(now, "carebridge_outbox_oldest_pending_seconds", platform="telegram") == 0
    assert value(now, "carebridge_handoffs_waiting", clinic="team") == 1
    assert value(now, "carebridge_timers_overdue") == 0

    clock.advance(minutes=2, seconds=59)  # the escalation was due at 2 minutes: late, not yet overdue
    _, soon = scrape(services.store.engine, clock)  # an engine will do as well as the store
    assert value(soon, "carebridge_timers_overdue") == 0
    assert value(soon, "carebridge_outbox_oldest_pending_seconds", platform="slack") == 179
    clock.advance(seconds=2)
    _, later = scrape(services.store, clock)
    assert value(later, "carebridge_timers_overdue") == 1
    assert value(later, "carebridge_outbox_oldest_pending_seconds", platform="telegram") == 181

    [page] = [row for row in services.store.pending_messages("clinic", "slack") if row.kind == "page"]
    assert act_on_handoff(services, ClinicianAction("k:accept", "U0DANA", page.ref, "accept", None)).status == "applied"
    _, accepted = scrape(services.store, clock)
    assert value(accepted, "carebridge_handoffs_waiting", clinic="team") == 0
    assert value(accepted, "carebridge_timers_overdue") == 0  # accepting cancelled the escalation


@pytest.mark.store
def test_the_scrape_carries_no_patient_code_chat_ref_or_reason(patient_chat, clock):
    chat = paged_patient(patient_chat)
    services = chat.services
    text, _ = scrape(services.store, clock)
    with services.store.engine.connect() as conn:
        code = conn.execute(select(PATIENT.c.code)).scalar_one()
        ref, reason = conn.execute(select(HANDOFF.c.ref, HANDOFF.c.reason)).one()
    assert "carebridge_handoffs_waiting" in text
    assert [what for what in (code, ref, reason, "chat-1", "C0TEAMBH", "PHQ-9") if what in text] == []


@pytest.mark.store
def test_counters_of_this_process_move_when_counted(make_services, clock):
    services = make_services()
    _, before = scrape(services.store, clock)
    count_delivery("telegram", "sent", 3)
    count_delivery("slack", "retry")
    count_delivery("telegram", "sent", 0)
    count_event("telegram", "applied")
    count_event("P-0001", "I want to die")  # never a label: counted as other
    count_timers(2)
    _, after = scrape(services.store, clock)

    def moved(name: str, **labels: str) -> float:
        return (value(after, name, **labels) or 0) - (value(before, name, **labels) or 0)

    assert moved("carebridge_deliveries_total", platform="telegram", outcome="sent") == 3
    assert moved("carebridge_deliveries_total", platform="slack", outcome="retry") == 1
    assert moved("carebridge_events_total", source="telegram", status="applied") == 1
    assert moved("carebridge_events_total", source="other", status="other") == 1
    assert moved("carebridge_timers_fired_total") == 2
    assert not any("P-0001" in str(labels) or "die" in str(labels) for _, labels in after)


def test_a_database_that_cannot_be_read_still_answers_with_database_up_0(tmp_path):
    count_delivery("telegram", "failed")
    for broken in (make_engine(f"sqlite:///{tmp_path / 'missing' / 'carebridge.db'}"),  # cannot be opened
                   make_engine(f"sqlite:///{tmp_path / 'empty.db'}")):  # opens, but has no tables
        _, samples = scrape(broken)
        assert value(samples, "carebridge_database_up") == 0
        assert not [name for name, _ in samples if name.startswith(("carebridge_outbox", "carebridge_handoffs"))]
        assert value(samples, "carebridge_deliveries_total", platform="telegram", outcome="failed") >= 1
        broken.dispose()


def test_healthz_answers_ok():
    with TestClient(Starlette(routes=[healthz_route()])) as client:
        answer = client.get("/healthz")
    assert (answer.status_code, answer.text) == (200, "ok")
