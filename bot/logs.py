"""Set up logging for the long-running commands: our records at INFO, libraries that log bodies kept quiet."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import TextIO

# These libraries log request and response bodies (message text, page text, slash command text, a refused
# request's whole body) below WARNING: never below WARNING here. Their loggers' own levels are not enough:
# slack_bolt gives each of its loggers the root logger's level when it creates them, so the handler drops these
# records itself (QuietLibraries).
QUIET = ("slack_sdk", "slack_bolt", "telegram", "httpx", "httpcore", "aiohttp", "uvicorn.access")
FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
REDACTED = "<redacted>"
# Credentials recognisable by their shape: Telegram bot tokens (also inside /bot<token>/ URLs) and Slack tokens.
TOKEN_PATTERNS = (re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}"), re.compile(r"\bx(?:ox[abposre]|app)-[A-Za-z0-9-]{8,}"))
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


def secrets_from_settings() -> list[str | None]:
    """Return the credentials of the current settings (tokens and signing secrets)."""
    from bot.config import settings

    current = settings()
    return [current.telegram_bot_token, current.telegram_webhook_secret, current.slack_bot_token,
            current.slack_signing_secret, current.slack_app_token]


def configure_logging(level: int = logging.INFO, stream: TextIO | None = None,
                      secrets: Iterable[str | None] | None = None) -> logging.Handler:
    """Log to stderr (or stream) with timestamps; bodies and credentials never reach the log; return the handler."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "carebridge", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.carebridge = True
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(QuietLibraries())
    handler.addFilter(RedactSecrets(secrets_from_settings() if secrets is None else secrets))
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler
