"""Make opaque references: random in production, sequential (reproducible) in tests and demos."""

from __future__ import annotations

import secrets
from itertools import count

# No 0/O, 1/I/L, U: codes are read aloud and typed by people.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTHS = {"P": 4, "n": 6}


class RandomIds:
    """References from the operating system's random source."""

    def new(self, prefix: str) -> str:
        """Return a new reference such as P-7K3Q, S-8F2KQ9ZD or a 6-character nonce."""
        size = LENGTHS.get(prefix, 8)
        body = "".join(secrets.choice(CODE_ALPHABET) for _ in range(size))
        return body if prefix == "n" else f"{prefix}-{body}"


class SequentialIds:
    """Predictable references for golden tests and the demo: P-0001, S-0002, ..."""

    def __init__(self, start: int = 1):
        self._counter = count(start)

    def new(self, prefix: str) -> str:
        """Return the next reference."""
        number = next(self._counter)
        return f"n{number:05d}" if prefix == "n" else f"{prefix}-{number:04d}"
