"""The worker's in-memory queue: urgency across chats, order within a chat, holds, parking, no row twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain.effects import CHECKIN, CRISIS, REMINDER, REPLY
from bot.services.ports import OutboundMessage
from bot.worker.pending import PendingRows

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def row(row_id: int, chat: str, priority: int = REPLY, not_before: datetime | None = None) -> OutboundMessage:
    return OutboundMessage(row_id, "patient", "telegram", chat, "text", priority, {"text": f"row {row_id}"},
                           not_before=not_before)


def drain(rows: PendingRows, now: datetime = NOW) -> list[int]:
    """Take every row that may go now, in the order the worker would send them."""
    taken = []
    while (message := rows.next_ready(now)) is not None:
        rows.take(message)
        taken.append(message.id)
    return taken


def test_the_most_urgent_row_of_any_chat_goes_first_and_each_chat_keeps_its_order():
    rows = PendingRows()
    for message in (row(1, "a", REMINDER), row(2, "a", REPLY), row(3, "b", CHECKIN), row(4, "a", CRISIS),
                    row(5, "b", REPLY), row(6, "a", REPLY)):
        rows.add(message)
    assert drain(rows) == [4, 2, 5, 6, 1, 3]
    assert rows.next_ready(NOW) is None


def test_a_row_offered_and_found_by_a_scan_is_queued_once_and_a_settled_row_never_again():
    rows = PendingRows()
    assert rows.add(row(1, "a")) is True
    assert rows.add(row(1, "a")) is False
    [message_id] = drain(rows)
    rows.settled(row(message_id, "a"))
    assert rows.add(row(1, "a")) is False
    assert rows.is_new(1) is False and rows.is_new(2) is True
    assert drain(rows) == []


def test_a_held_head_holds_its_whole_chat_until_the_clock_reaches_it():
    rows = PendingRows()
    rows.add(row(1, "a"))
    rows.add(row(2, "a"))
    rows.add(row(3, "b"))
    first = rows.next_ready(NOW)
    rows.take(first)
    rows.put_back(row(1, "a", not_before=NOW + timedelta(seconds=30)))  # Telegram said: retry in 30 s
    assert drain(rows) == [3]  # row 2 does not overtake row 1
    assert rows.seconds_to_next(NOW, 0.0) == 30.0
    rows.release(NOW + timedelta(seconds=29), 0.0)
    assert drain(rows, NOW + timedelta(seconds=29)) == []
    later = NOW + timedelta(seconds=30)
    rows.release(later, 0.0)
    assert drain(rows, later) == [1, 2]


def test_a_parked_chat_waits_for_the_loop_time_while_others_go():
    rows = PendingRows()
    rows.add(row(1, "a"))
    rows.add(row(2, "b"))
    first = rows.next_ready(NOW)
    assert first.id == 1
    rows.park("a", until=10.5)
    assert drain(rows) == [2]
    rows.add(row(3, "a"))  # arrives while its chat is parked
    rows.release(NOW, 10.4)
    assert drain(rows) == []
    rows.release(NOW, 10.5)
    assert drain(rows) == [1, 3]


def test_dropping_a_chat_settles_all_its_rows():
    rows = PendingRows()
    for message in (row(1, "a"), row(2, "a"), row(3, "b")):
        rows.add(message)
    assert [m.id for m in rows.drop_chat("a")] == [1, 2]
    assert drain(rows) == [3]
    assert rows.add(row(2, "a")) is False
    assert len(rows) == 1  # row 3 was taken but not yet settled
