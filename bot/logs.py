"""Set up logging for the long-running commands: our records at INFO, libraries that log bodies kept quiet."""

from __future__ import annotations

import logging

# These libraries log request and response bodies (message text, page text) at DEBUG: never below WARNING here.
QUIET = ("slack_sdk", "slack_bolt", "telegram", "httpx", "httpcore", "aiohttp", "uvicorn.access")


def configure_logging(level: int = logging.INFO) -> None:
    """Log to stderr with timestamps; bodies never reach the log (see QUIET)."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
