"""Set up logging for the long-running commands: our records at INFO, libraries that log bodies kept quiet."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from pythonjsonlogger.json import JsonFormatter

# These libraries log request and response bodies (message text, page text, slash command text, a refused
# request's whole body) below WARNING: never below WARNING here. Their loggers' own levels are not enough:
# slack_bolt gives each of its loggers the root logger's level when it creates them, so the handler drops these
# records itself (QuietLibraries).
QUIET = ("slack_sdk", "slack_bolt", "telegram", "httpx", "httpcore", "aiohttp", "uvicorn.access", "transitions")
FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
REDACTED = "<redacted>"
# Credentials recognisable by their shape: Telegram bot tokens (also inside /bot<token>/ URLs) and Slack tokens.
TOKEN_PATTERNS = (re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}"), re.compile(r"\bx(?:ox[abposre]|app)-[A-Za-z0-9-]{8,}"))
# The only extra= fields written, in either format: names of codes, ids and counts, never of free text. A field not
# listed here (extra={"text": ...}) is dropped.
EXTRAS = ("event_key", "outbox_id", "kind", "platform", "status", "reason", "error", "worker", "mode", "port",
          "revision", "count", "seconds")
FORMATS = ("json", "text")
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def is_quiet(name: str) -> bool:
    """Say whether a logger belongs to a library that logs bodies."""
    return any(name == quiet or name.startswith(quiet + ".") for quiet in QUIET)


class QuietLibraries(logging.Filter):
    """Let through only WARNING and above from the QUIET libraries, whatever level their loggers were given."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not is_quiet(record.name)


class RedactSecrets(logging.Filter):
    """Replace the configured secrets and anything shaped like a bot token in a record before it is written."""

    def __init__(self, secrets: Iterable[str | None] = ()):
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """Return text with every secret and token replaced."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        for pattern in TOKEN_PATTERNS:
            text = pattern.sub(REDACTED, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit its format: keep the format only
            message = str(record.msg)
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        for name, value in list(record.__dict__.items()):  # fields given with extra=
            if name not in _STANDARD and isinstance(value, str):
                setattr(record, name, self.redact(value))
        return True


def allowed_extras(record: logging.LogRecord) -> dict[str, Any]:
    """Return the record's allowlisted extra= fields, in EXTRAS order."""
    return {name: record.__dict__[name] for name in EXTRAS if name in record.__dict__}


def _text_value(value: Any) -> str:
    text = str(value)
    return text if text and not re.search(r'[\s"=]', text) else json.dumps(text)


class TextLines(logging.Formatter):
    """Format a record as one text line: time, level, logger, message, then the allowlisted extras as key=value."""

    def __init__(self) -> None:
        super().__init__(FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:
        pairs = "".join(f" {name}={_text_value(value)}" for name, value in allowed_extras(record).items())
        return super().formatMessage(record) + pairs


class JsonLines(JsonFormatter):
    """Format a record as one JSON object: time, level, logger, message, the allowlisted extras, any traceback."""

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
        log_data.update(time=datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                        level=record.levelname, logger=record.name, message=record.message)
        log_data.update(allowed_extras(record))
        # The traceback as RedactSecrets left it (exc_text), not formatted again from exc_info.
        if record.exc_text or record.exc_info:
            log_data["exc_info"] = record.exc_text or self.formatException(record.exc_info)
        if record.stack_info:
            log_data["stack_info"] = self.formatStack(record.stack_info)


def formatter(log_format: str) -> logging.Formatter:
    """Return the formatter of a log format (json or text)."""
    if log_format not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {log_format!r}")
    return JsonLines() if log_format == "json" else TextLines()


def secrets_from_settings() -> list[str | None]:
    """Return the credentials of the current settings (tokens and signing secrets)."""
    from bot.config import settings

    current = settings()
    return [current.telegram_bot_token, current.telegram_webhook_secret, current.slack_bot_token,
            current.slack_signing_secret, current.slack_app_token]


def configure_logging(level: int = logging.INFO, stream: TextIO | None = None,
                      secrets: Iterable[str | None] | None = None, log_format: str | None = None) -> logging.Handler:
    """Log to stderr (or stream) as JSON or text lines; bodies, credentials and free text never reach the log."""
    if log_format is None:
        from bot.config import settings

        log_format = settings().log_format
    chosen = formatter(log_format)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "carebridge", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.carebridge = True
    handler.setFormatter(chosen)
    handler.addFilter(QuietLibraries())
    handler.addFilter(RedactSecrets(secrets_from_settings() if secrets is None else secrets))
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler
