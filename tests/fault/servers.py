"""Wait for CareBridge's servers to come up in the fault tests."""

from __future__ import annotations

import subprocess
import time

import httpx


def serving(servers: list[str], processes: list[subprocess.Popen], timeout: float = 30) -> None:
    """Wait until every server answers /healthz; fail if a process exits first."""
    deadline = time.monotonic() + timeout
    for server in servers:
        while True:
            assert all(p.poll() is None for p in processes), "a CareBridge process exited while starting"
            try:
                if httpx.get(f"{server}/healthz", timeout=1, trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, f"{server} did not start"
            time.sleep(0.1)
