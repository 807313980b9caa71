"""Slack's request URL on the project's ASGI app: the signature and timestamp are checked first, then bolt dispatches."""

from __future__ import annotations

import logging
import re

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
TIMESTAMP = re.compile(r"[0-9]{1,12}")  # seconds since the epoch, as Slack sends them
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


def signed_by_slack(verifier: SignatureVerifier | None, body: bytes, timestamp: str | None,
                    signature: str | None) -> bool:
    """Say whether a request carries a valid, fresh (5 minutes) signature; malformed headers are simply invalid."""
    if verifier is None or not TIMESTAMP.fullmatch(timestamp or "") or not SIGNATURE.fullmatch(signature or ""):
        return False
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return verifier.is_valid(text, timestamp, signature)


def slack_route(app: AsyncApp, signing_secret: str) -> Route:
    """Return the POST route that hands Slack's requests to the bolt app, refusing unsigned ones before reading them."""
    # Bolt parses the body before it checks the signature, and answers 500 to a timestamp that is not a number:
    # an unsigned request is refused here with 401 before bolt (which checks again) sees it.
    handler = AsyncSlackRequestHandler(app)
    verifier = SignatureVerifier(signing_secret) if signing_secret.strip() else None

    async def receive(request: Request) -> Response:
        body = await request.body()
        headers = request.headers
        if not signed_by_slack(verifier, body, headers.get("x-slack-request-timestamp"),
                               headers.get("x-slack-signature")):
            return Response(status_code=401)
        try:
            return await handler.handle(request)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:  # signed, yet not a body bolt can read
            log.warning("slack request not readable", extra={"error": type(exc).__name__})
            return Response(status_code=400)

    return Route(EVENTS_PATH, receive, methods=["POST"])
