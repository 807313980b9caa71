"""What the Slack stand-in records: calls, messages, ephemerals, files, response_url posts, and its errors."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.responses import JSONResponse

TEAM_ID = "T0CAREBRDG"
TEAM_DOMAIN = "carebridge-test"
BOT_USER_ID = "U0CAREBOT"
BOT_ID = "B0CAREBOT"
APP_ID = "A0CAREBRDG"
_STATUS_ERRORS = {500: "internal_error", 502: "bad_gateway", 503: "service_unavailable", 504: "gateway_timeout"}


class SlackError(Exception):
    """Carry a Slack error answer: HTTP status, error string and optional Retry-After seconds."""

    def __init__(self, error: str, status: int = 200, retry_after: int | None = None) -> None:
        """Name the error as Slack does (status 200 unless the transport itself fails)."""
        super().__init__(error)
        self.error, self.status, self.retry_after = error, status, retry_after

    @classmethod
    def for_status(cls, status: int, error: str | None = None, retry_after: int | None = None) -> SlackError:
        """Build the answer for an HTTP status (429 is always 'ratelimited' with a Retry-After)."""
        if status == 429:
            return cls("ratelimited", 429, retry_after or 1)
        return cls(error or _STATUS_ERRORS.get(status, "fatal_error"), status, retry_after)

    def response(self) -> JSONResponse:
        """Return the HTTP answer Slack sends for this error."""
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else None
        return JSONResponse({"ok": False, "error": self.error}, status_code=self.status, headers=headers)


def tz_offset(tz: str) -> int:
    """Return the zone's current offset from UTC in seconds (0 for an unknown zone)."""
    try:
        return int(datetime.now(ZoneInfo(tz)).utcoffset().total_seconds())  # type: ignore[union-attr]
    except (KeyError, ValueError):
        return 0


def user_dict(user_id: str, name: str, real_name: str | None, tz: str, is_bot: bool) -> dict[str, Any]:
    """Build the user object users.info answers with."""
    real = real_name or name
    return {"id": user_id, "team_id": TEAM_ID, "name": name, "real_name": real, "deleted": False, "tz": tz,
            "tz_label": tz, "tz_offset": tz_offset(tz), "is_bot": is_bot, "is_admin": False, "is_app_user": False,
            "profile": {"real_name": real, "display_name": name, "team": TEAM_ID}}


@dataclass
class RecordedCall:
    """One Web API request the stand-in received, with the HTTP status and error it answered."""

    method: str
    params: dict[str, Any]
    time: float
    status: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Tell whether the call was answered with ok: true."""
        return self.status == 200 and self.error is None


def _buttons(elements: list[dict[str, Any]], block_id: str | None) -> list[dict[str, Any]]:
    return [dict(e, block_id=block_id) for e in elements if e.get("type") == "button"]


def block_buttons(blocks: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Return every button element in blocks (actions elements and section accessories), with its block_id."""
    found: list[dict[str, Any]] = []
    for block in blocks or []:
        found += _buttons(block.get("elements") or [], block.get("block_id"))
        found += _buttons([block["accessory"]] if block.get("accessory") else [], block.get("block_id"))
    return found


@dataclass
class SlackMessage:
    """A channel message as Slack now shows it (edits applied, earlier versions kept in `edits`)."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    user: str | None = BOT_USER_ID
    bot_id: str | None = BOT_ID
    files: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] | None = None
    edits: list[dict[str, Any]] = field(default_factory=list)

    @property
    def buttons(self) -> list[tuple[str, str | None, str]]:
        """Return (action_id, value, label) for every button, in block order."""
        return [(b.get("action_id", ""), b.get("value"), (b.get("text") or {}).get("text", ""))
                for b in block_buttons(self.blocks)]

    def to_json(self) -> dict[str, Any]:
        """Return the message object Slack's API and payloads carry."""
        body: dict[str, Any] = {"type": "message", "text": self.text, "ts": self.ts, "team": TEAM_ID}
        if self.user:
            body["user"] = self.user
        if self.bot_id:
            body.update(bot_id=self.bot_id, app_id=APP_ID)
        if self.blocks:
            body["blocks"] = self.blocks
        if self.thread_ts:
            body["thread_ts"] = self.thread_ts
        if self.files:
            body.update(files=self.files, upload=True)
        if self.metadata:
            body["metadata"] = self.metadata
        if self.edits:
            body["edited"] = {"user": self.user, "ts": self.edits[-1]["edited_ts"]}
        return body


@dataclass
class Ephemeral:
    """A message only one user sees (chat.postEphemeral, or an ephemeral response_url post)."""

    channel: str | None
    user: str
    text: str
    blocks: list[dict[str, Any]]
    message_ts: str
    thread_ts: str | None = None
    source: str = "chat.postEphemeral"


@dataclass
class UploadedFile:
    """A file announced with files.getUploadURLExternal, its bytes, and where it was shared."""

    id: str
    filename: str
    length: int
    alt_txt: str | None = None
    data: bytes | None = None
    title: str | None = None
    channel_id: str | None = None
    thread_ts: str | None = None
    initial_comment: str | None = None
    message_ts: str | None = None
    completed: bool = False

    @property
    def size(self) -> int:
        """Return how many bytes were uploaded."""
        return len(self.data or b"")

    def to_json(self) -> dict[str, Any]:
        """Return the file object files.completeUploadExternal answers with."""
        share = {"ts": self.message_ts, **({"thread_ts": self.thread_ts} if self.thread_ts else {})}
        shares = {"public": {self.channel_id: [share]}} if self.channel_id else {}
        mimetype = mimetypes.guess_type(self.filename)[0] or "application/octet-stream"
        return {"id": self.id, "name": self.filename, "title": self.title or self.filename, "size": self.size,
                "mimetype": mimetype, "filetype": self.filename.rpartition(".")[2].lower() if "." in self.filename
                else "binary", "user": BOT_USER_ID, "alt_txt": self.alt_txt, "shares": shares,
                "channels": [self.channel_id] if self.channel_id else []}


@dataclass
class ResponsePost:
    """One POST to a response_url: the JSON body and the status answered."""

    url_id: str
    body: dict[str, Any]
    status: int
    time: float
