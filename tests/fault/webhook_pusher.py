"""Telegram's side of the webhook for tests: the stand-in's updates posted to servers behind a load balancer."""

from __future__ import annotations

import subprocess
import threading
import time

import httpx

from bot.adapters.telegram.webhook import SECRET_HEADER
from bot.standins.telegram.app import FakeBotApi


class WebhookPusher:
    """Post each queued update, in order, to the servers in turn; an update not answered 200 is posted again."""

    def __init__(self, api: FakeBotApi, urls: list[str], secret: str):
        self.api, self.urls, self.secret = api, urls, secret
        self.posted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhook-pusher", daemon=True)

    def start(self) -> None:
        """Start pushing."""
        self._thread.start()

    def stop(self) -> None:
        """Stop pushing."""
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        offset: int | None = None
        with httpx.Client(trust_env=False, timeout=10) as client:
            while not self._stop.is_set():
                updates = self.api.state.take_updates(offset, 50)
                if not updates:
                    time.sleep(0.01)
                    continue
                for update in updates:
                    while not self._stop.is_set() and not self._post(client, update):
                        time.sleep(0.05)
                    offset = update["update_id"] + 1

    def _post(self, client: httpx.Client, update: dict) -> bool:
        url = self.urls[self.posted % len(self.urls)]
        self.posted += 1
        try:
            return client.post(url, json=update, headers={SECRET_HEADER: self.secret}).status_code == 200
        except httpx.HTTPError:
            return False


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
