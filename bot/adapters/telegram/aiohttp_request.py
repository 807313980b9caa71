"""A python-telegram-bot transport on aiohttp: HTTPXRequest's behaviour for a fraction of its CPU per call."""

# Mirrors telegram.request.HTTPXRequest (PTB 22):
# * bodies: no files -> application/json of RequestData.json_parameters (httpx sends the same parameters as a
#   form; the Bot API takes either, and a form's pure-Python encoding cost more than the rest of a call); files ->
#   multipart/form-data with the JSON parameters first, then the files, byte for byte as httpx renders
#   them (only the random boundary differs); no parameters -> no body and no Content-Type; no redirects.
# * timeouts: DEFAULT_NONE per call falls back to the constructor values, uploads with files use
#   media_write_timeout; None means wait forever.
# * errors: every timeout -> TimedOut (a full connection pool with PTB's pool-timeout message), every other
#   aiohttp error -> NetworkError("aiohttp.<Class>: <message>"); cancellation propagates. Messages never
#   show the request URL, whose path carries the bot token.
#
# How the four timeouts map onto aiohttp, which has no pool or write timeout of its own:
# * pool: an asyncio.Semaphore of connection_pool_size slots, held from before the connection is taken
#   until the body is read (as an httpx pool slot is); waiting longer than pool_timeout for a slot raises
#   TimedOut before anything is sent. The TCPConnector has the same limit, so it never waits itself.
# * connect: ClientTimeout.connect and sock_connect (name resolution plus TCP connect).
# * write: each write of the request body that has to wait for the socket gets write_timeout (aiohttp
#   only waits once 64 KiB are buffered, so in practice this bounds uploads).
# * read: ClientTimeout.sock_read, the longest silence while waiting for and reading the response; it
#   starts once the body is sent, like httpx's per-read timeout.
# Unlike httpx, proxies are not taken from the environment (HTTPS_PROXY etc.); pass proxy= instead.

from __future__ import annotations

import asyncio
import io
import json
import mimetypes
import os
import re
from collections.abc import Iterator
from typing import IO
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractStreamWriter
from aiohttp.payload import Payload
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.logging import get_logger
from telegram._utils.types import ODVInput, UploadFileDict
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_LOGGER = get_logger(__name__, "AiohttpRequest")

POOL_TIMEOUT_MESSAGE = (
    "Pool timeout: All connections in the connection pool are occupied. "
    "Request was *not* sent to Telegram. Consider adjusting the connection "
    "pool size or the pool timeout."
)
JSON = "application/json"
CHUNK_SIZE = 64 * 1024  # httpx reads file handles in chunks of this size
_DRAIN_THRESHOLD = 0x10000 - 1024  # below aiohttp's StreamWriter LIMIT, with room for chunked-encoding framing

# httpx's HTML5 escaping of multipart name/filename parameters (httpx._multipart._format_form_param).
_FORM_ESCAPES = {'"': "%22", "\\": "\\\\"}
_FORM_ESCAPES.update({chr(c): f"%{c:02X}" for c in range(0x20) if c != 0x1B})
_FORM_ESCAPE_RE = re.compile("|".join(re.escape(c) for c in _FORM_ESCAPES))


class _WriteTimeout(TimeoutError):
    """Signal that one write of the request body waited longer than the write timeout."""


def _form_param(name: str, value: str) -> bytes:
    """Render name="value" for a multipart Content-Disposition as httpx does."""
    return f'{name}="{_FORM_ESCAPE_RE.sub(lambda m: _FORM_ESCAPES[m.group(0)], value)}"'.encode()


def _file_length(handle: IO[bytes]) -> int | None:
    """Return a file handle's length without reading it, or None (as httpx.peek_filelike_length)."""
    try:
        return os.fstat(handle.fileno()).st_size
    except (AttributeError, OSError):
        pass
    try:
        offset = handle.tell()
        length = handle.seek(0, os.SEEK_END)
        handle.seek(offset)
        return length
    except (AttributeError, OSError):
        return None


def _scrub(text: str, url: str) -> str:
    """Replace the request URL and its path, which carry the bot token, in an error message."""
    for secret in (url, urlsplit(url).path):
        if len(secret) > 1:
            text = text.replace(secret, "<url>")
    return text


def _tokenless(exc: BaseException, url: str) -> BaseException:
    """Return exc, or a stand-in with a scrubbed message if its message shows the URL (some aiohttp ones do)."""
    text = str(exc)
    scrubbed = _scrub(text, url)
    if scrubbed == text:
        return exc
    stand_in = TimeoutError if isinstance(exc, TimeoutError) else aiohttp.ClientError
    return stand_in(f"aiohttp.{exc.__class__.__name__}: {scrubbed}")


class _Body(Payload):
    """Stream a request body of bytes and file handles, bounding each socket wait by the write timeout."""

    _autoclose = True

    def __init__(self, parts: list[bytes | IO[bytes]], content_type: str, write_timeout: float | None) -> None:
        """Hold the parts in order; the size is known unless a file handle cannot tell its length."""
        super().__init__(parts, content_type=content_type)
        self._parts = parts
        self._write_timeout = write_timeout
        size = 0
        for part in parts:
            length = len(part) if isinstance(part, bytes) else _file_length(part)
            if length is None:
                size = None
                break
            size += length
        self._size = size

    def _chunks(self) -> Iterator[bytes]:
        for part in self._parts:
            if isinstance(part, bytes):
                yield part
                continue
            if hasattr(part, "seek"):  # httpx rewinds file handles before sending them
                try:
                    part.seek(0)
                except io.UnsupportedOperation:
                    pass
            while chunk := part.read(CHUNK_SIZE):
                yield chunk if isinstance(chunk, bytes) else bytes(chunk)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """Return the whole body as text."""
        return b"".join(self._chunks()).decode(encoding, errors)

    async def write(self, writer: AbstractStreamWriter) -> None:
        """Write the body; a write that waits longer than the write timeout raises a TimeoutError."""
        timeout = self._write_timeout
        for chunk in self._chunks():
            # aiohttp's StreamWriter.write only waits (drains) once more than 64 KiB are buffered; a write
            # that cannot wait needs no timer (this saves ~8 us per small request).
            if timeout is None or writer.buffer_size + len(chunk) <= _DRAIN_THRESHOLD:
                await writer.write(chunk)
                continue
            try:
                async with asyncio.timeout(timeout):
                    await writer.write(chunk)
            except TimeoutError as exc:
                raise _WriteTimeout("Timeout on writing the request body to the socket") from exc


def _multipart(parameters: dict[str, str], files: UploadFileDict) -> tuple[list[bytes | IO[bytes]], str]:
    """Return the parts and Content-Type of the multipart/form-data body httpx sends for data and files."""
    boundary = os.urandom(16).hex().encode("ascii")
    opener = b"--%s\r\n" % boundary
    parts: list[bytes | IO[bytes]] = []
    for name, value in parameters.items():
        parts.append(opener + b"Content-Disposition: form-data; " + _form_param("name", name) + b"\r\n\r\n"
                     + value.encode() + b"\r\n")
    for name, (filename, content, mimetype) in files.items():
        header = [opener, b"Content-Disposition: form-data; ", _form_param("name", name)]
        if filename:
            header += [b"; ", _form_param("filename", filename)]
        content_type = mimetype or (mimetypes.guess_type(filename)[0] or "application/octet-stream"
                                    if filename else None)
        if content_type:
            header += [b"\r\nContent-Type: ", content_type.encode()]
        header.append(b"\r\n\r\n")
        if isinstance(content, (bytes, bytearray, memoryview, str)):
            data = content.encode() if isinstance(content, str) else bytes(content)
            parts.append(b"".join(header) + data + b"\r\n")
        else:
            parts += [b"".join(header), content, b"\r\n"]
    parts.append(b"--%s--\r\n" % boundary)
    return parts, f"multipart/form-data; boundary={boundary.decode('ascii')}"


class AiohttpRequest(BaseRequest):
    """Implement telegram.request.BaseRequest on one aiohttp.ClientSession, mirroring HTTPXRequest."""

    __slots__ = ("_connect_timeout", "_media_write_timeout", "_pool_size", "_pool_timeout", "_proxy",
                 "_read_timeout", "_session", "_slots", "_timeouts", "_write_timeout")

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        proxy: str | None = None,
    ) -> None:
        """Store the defaults (same names and values as HTTPXRequest); the session opens in initialize()."""
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._proxy = proxy
        self._session: aiohttp.ClientSession | None = None
        self._slots: asyncio.Semaphore | None = None
        self._timeouts: dict[tuple[float | None, float | None], aiohttp.ClientTimeout] = {}

    @property
    def read_timeout(self) -> float | None:
        """Return the default read timeout in seconds (see BaseRequest.read_timeout)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the aiohttp session in the running event loop unless one is open already."""
        if self._session is not None and not self._session.closed:
            return
        connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=0)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=self._client_timeout(self._connect_timeout, self._read_timeout),
            proxy=self._proxy,
            # httpx sends no Content-Type without a body; aiohttp would add application/octet-stream.
            # Requests with a body set theirs explicitly.
            skip_auto_headers=("Content-Type",),
            cookie_jar=aiohttp.DummyCookieJar(),  # the Bot API sets no cookies: none to store or send
        )
        self._slots = asyncio.Semaphore(self._pool_size)

    async def shutdown(self) -> None:
        """Close the session and its connections; do nothing if it is not open."""
        if self._session is None or self._session.closed:
            _LOGGER.debug("This AiohttpRequest is already shut down. Returning.")
            return
        await self._session.close()

    def _client_timeout(self, connect: float | None, read: float | None) -> aiohttp.ClientTimeout:
        """Return a (cached) ClientTimeout with no overall limit, as httpx has none."""
        key = (connect, read)
        timeout = self._timeouts.get(key)
        if timeout is None:
            if len(self._timeouts) >= 64:
                self._timeouts.clear()
            timeout = self._timeouts[key] = aiohttp.ClientTimeout(
                total=None, connect=connect, sock_connect=connect, sock_read=read)
        return timeout

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request and return (HTTP status, body bytes) (see BaseRequest.do_request)."""
        if self._session is None:  # like HTTPXRequest, usable before initialize() ...
            await self.initialize()
        session, slots = self._session, self._slots
        if session is None or slots is None or session.closed:  # ... but not after shutdown()
            raise RuntimeError("This AiohttpRequest is not initialized!")

        has_files = request_data is not None and request_data.contains_files
        if isinstance(read_timeout, DefaultValue):
            read_timeout = self._read_timeout
        if isinstance(connect_timeout, DefaultValue):
            connect_timeout = self._connect_timeout
        if isinstance(pool_timeout, DefaultValue):
            pool_timeout = self._pool_timeout
        if isinstance(write_timeout, DefaultValue):
            write_timeout = self._media_write_timeout if has_files else self._write_timeout

        headers = {"User-Agent": self.USER_AGENT}
        body: _Body | None = None
        if request_data is not None:
            parameters = request_data.json_parameters
            if has_files:
                parts, content_type = _multipart(parameters, request_data.multipart_data)
                body = _Body(parts, content_type, write_timeout)
            elif parameters:
                body = _Body([json.dumps(parameters).encode()], JSON, write_timeout)
            if body is not None:
                headers["Content-Type"] = body.content_type

        if slots.locked():
            try:
                async with asyncio.timeout(pool_timeout):
                    await slots.acquire()
            except TimeoutError as exc:
                raise TimedOut(message=POOL_TIMEOUT_MESSAGE) from exc
        else:
            await slots.acquire()  # a free slot: returns without suspending
        try:
            async with session.request(method, url, data=body, headers=headers, allow_redirects=False,
                                       timeout=self._client_timeout(connect_timeout, read_timeout)) as response:
                return response.status, await response.read()
        except asyncio.TimeoutError as exc:  # aiohttp's connect/read timeouts and _WriteTimeout
            raise TimedOut from _tokenless(exc, url)
        except aiohttp.ClientError as exc:
            # As HTTPXRequest: the class name helps when the message is empty.
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {_scrub(str(exc), url)}") from _tokenless(exc, url)
        finally:
            slots.release()
