"""Structured logs: one JSON object (or text line) a record, with only allowlisted extra fields, secrets redacted."""

from __future__ import annotations

import io
import json
import logging

import pytest
from pydantic import ValidationError

from bot.config import Settings, settings
from bot.logs import REDACTED, configure_logging

SECRET = "xoxb-4242-structured-log-test-token"
CRISIS_WORDS = "I want to die"


@pytest.fixture
def logged():
    """Configure logging into a buffer (format given per call); return a function giving what was written."""
    root, stream = logging.getLogger(), io.StringIO()
    level, handlers = root.level, []

    def configure(log_format: str | None) -> io.StringIO:
        handlers.append(configure_logging(logging.DEBUG, stream=stream, secrets=[SECRET], log_format=log_format))
        return stream

    yield configure
    for handler in handlers:
        root.removeHandler(handler)
    root.setLevel(level)


def json_lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_json_line_has_time_level_logger_message_and_the_allowlisted_extras(logged):
    stream = logged("json")
    logging.getLogger("bot.worker.delivery").warning("delivery failed for good",
                                                     extra={"outbox_id": 17, "kind": "page", "reason": "channel_not_found"})
    [line] = json_lines(stream)
    assert line == {"time": line["time"], "level": "WARNING", "logger": "bot.worker.delivery",
                    "message": "delivery failed for good", "outbox_id": 17, "kind": "page", "reason": "channel_not_found"}
    assert line["time"].endswith("+00:00") and line["time"][:2] == "20"


def test_the_text_format_shows_the_same_extras_as_key_value(logged):
    stream = logged("text")
    logging.getLogger("bot.worker.delivery").warning("delivery failed for good",
                                                     extra={"outbox_id": 17, "reason": "rate limited twice"})
    line = stream.getvalue()
    assert line.rstrip("\n").endswith(' WARNING bot.worker.delivery delivery failed for good outbox_id=17 '
                                      'reason="rate limited twice"')
    assert line.count("\n") == 1


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_an_extra_field_not_on_the_allowlist_is_never_written(logged, log_format):
    stream = logged(log_format)
    log = logging.getLogger("bot.services.handle")
    log.info("answer stored", extra={"answer_text": CRISIS_WORDS, "patient_code": "P-7K3Q", "status": "applied"})
    written = stream.getvalue()
    assert "answer stored" in written and "applied" in written
    assert [word for word in (CRISIS_WORDS, "answer_text", "P-7K3Q", "patient_code") if word in written] == []


def test_secrets_are_redacted_in_json_in_message_extras_and_tracebacks(logged):
    stream = logged("json")
    log = logging.getLogger("bot.adapters.slack")
    log.warning("slack said no to %s", SECRET, extra={"error": f"invalid_auth for {SECRET}"})
    try:
        raise ConnectionError(f"cannot reach /bot7012345678:AAHcareBridgeTestToken_0123456789abcd/getMe with {SECRET}")
    except ConnectionError:
        log.exception("request failed", extra={"error": "ConnectionError"})
    written = stream.getvalue()
    first, second = json_lines(stream)
    assert first["message"] == f"slack said no to {REDACTED}" and first["error"] == f"invalid_auth for {REDACTED}"
    assert f"ConnectionError: cannot reach /bot{REDACTED}/getMe with {REDACTED}" in second["exc_info"]
    assert SECRET not in written and "AAHcareBridgeTestToken" not in written


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_library_records_below_warning_never_appear(logged, log_format):
    stream = logged(log_format)
    for name in ("slack_bolt.App", "telegram.ext.Updater", "httpx"):
        library = logging.getLogger(name)
        library.setLevel(logging.DEBUG)  # whatever level a library gives its own logger
        library.info("body: %s", CRISIS_WORDS)
        library.debug("body: %s", CRISIS_WORDS)
    logging.getLogger("httpx").warning("connection pool is full")
    written = stream.getvalue()
    assert CRISIS_WORDS not in written
    assert "connection pool is full" in written and len(written.splitlines()) == 1


def test_the_format_is_json_by_default_text_on_request_and_nothing_else(logged, monkeypatch):
    monkeypatch.delenv("CAREBRIDGE_LOG_FORMAT", raising=False)
    assert Settings(_env_file=None).log_format == "json"
    assert Settings(CAREBRIDGE_LOG_FORMAT="Text").log_format == "text"
    with pytest.raises(ValidationError, match="CAREBRIDGE_LOG_FORMAT must be json or text, not 'xml'"):
        Settings(CAREBRIDGE_LOG_FORMAT="xml")
    with pytest.raises(ValueError, match="log format must be one of json, text"):
        configure_logging(log_format="logfmt")
    monkeypatch.setenv("CAREBRIDGE_LOG_FORMAT", "text")
    settings.cache_clear()
    try:
        stream = logged(None)  # from the settings
    finally:
        settings.cache_clear()
    logging.getLogger("bot").info("started", extra={"mode": "polling"})
    assert stream.getvalue().rstrip("\n").endswith(" INFO bot started mode=polling")
