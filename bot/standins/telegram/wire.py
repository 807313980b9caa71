"""How PTB puts a call on the wire, read back: parameter decoding."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from bot.standins.forms import multipart_parts
from bot.standins.server import check_loopback  # noqa: F401  (re-exported)
from bot.standins.telegram.state import ApiError

# Parameters Telegram reads as plain strings; every other form value is JSON-decoded when it parses.
STRING_PARAMS = frozenset({"text", "caption", "parse_mode", "callback_query_id", "url", "secret_token", "action",
                           "language_code", "inline_message_id", "ip_address", "title", "description",
                           "short_description", "name", "emoji", "business_connection_id"})


def _decode(key: str, value: Any) -> Any:
    if key in STRING_PARAMS or not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _multipart(content_type: str, body: bytes) -> dict[str, Any]:
    return {name: {"filename": filename, "size": len(payload)} if filename else payload.decode()
            for name, filename, payload in multipart_parts(content_type, body)}


async def read_params(request: Request) -> dict[str, Any]:
    """Return the call's parameters from the query string and a JSON, form or multipart body."""
    raw: dict[str, Any] = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    body = await request.body()
    try:
        if content_type.startswith("application/json") and body:
            raw.update(json.loads(body))
        elif content_type.startswith("multipart/form-data"):
            raw.update(_multipart(content_type, body))
        elif body:
            raw.update(parse_qsl(body.decode(), keep_blank_values=True))
    except (ValueError, UnicodeDecodeError, TypeError) as exc:
        raise ApiError(400, "Bad Request: can't parse request body") from exc
    return {key: _decode(key, value) for key, value in raw.items()}
