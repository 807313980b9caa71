"""How slack_sdk puts a call on the wire, read back: token, parameters and uploaded bytes."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

from bot.standins.forms import multipart_parts
from bot.standins.slack.records import SlackError

# Form fields that carry JSON as a string (blocks=[...] and the like); everything else stays a string.
JSON_FIELDS = frozenset({"blocks", "attachments", "view", "files", "metadata", "outputs", "user_ids"})


def bearer_token(request: Request, params: dict[str, Any]) -> str | None:
    """Return the token from `Authorization: Bearer ...`, or from a `token` parameter as Slack also accepts."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    token = params.pop("token", None)
    return str(token) if token else None


def _decode(key: str, value: Any) -> Any:
    if key not in JSON_FIELDS or not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError as exc:
        raise SlackError("invalid_json" if key != "blocks" else "invalid_blocks_format") from exc


def _multipart(content_type: str, body: bytes) -> dict[str, Any]:
    return {name: {"filename": filename, "data": payload} if filename else payload.decode()
            for name, filename, payload in multipart_parts(content_type, body)}


async def read_params(request: Request) -> dict[str, Any]:
    """Return the call's parameters from the query string and a JSON, form or multipart body."""
    raw: dict[str, Any] = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    body = await request.body()
    try:
        if content_type.startswith("application/json") and body:
            decoded = json.loads(body)
            if not isinstance(decoded, dict):
                raise ValueError("not an object")
            raw.update(decoded)
        elif content_type.startswith("multipart/form-data"):
            raw.update(_multipart(content_type, body))
        elif body:
            raw.update(parse_qsl(body.decode(), keep_blank_values=True))
    except (ValueError, UnicodeDecodeError) as exc:
        raise SlackError("invalid_form_data") from exc
    return {key: _decode(key, value) for key, value in raw.items()}


async def read_upload(request: Request) -> bytes:
    """Return the bytes posted to an upload URL, raw or as the first file of a multipart form."""
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        for value in _multipart(content_type, body).values():
            if isinstance(value, dict):
                return value["data"]
    return body
