"""Read multipart form bodies the way the stand-ins record them."""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP


def multipart_parts(content_type: str, body: bytes) -> list[tuple[str, str | None, bytes]]:
    """Return (field name, file name or None, bytes) for each part of a multipart/form-data body."""
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
    return [(part.get_param("name", header="content-disposition"), part.get_filename(),
             part.get_payload(decode=True) or b"") for part in message.iter_parts()]
