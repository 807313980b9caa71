"""Telegram's side of a webhook: the stand-in's queued updates posted to the bot's servers, as behind a balancer."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from bot.standins.telegram.app import FakeBotApi

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def chat_of(update: dict) -> object:
    """Return the chat an update concerns (None if none)."""
    for kind in ("message", "edited_message", "callback_query"):
        payload = update.get(kind)
        if payload:
            chat = payload.get("chat") or payload.get("message", {}).get("chat") or {}
            return chat.get("id")
    return None


class WebhookPusher:
    """Post queued updates to the servers in turn: one chat's in order, chats side by side; retry until 200."""

    def __init__(self, api: FakeBotApi, urls: list[str], secret: str, connections: int = 8):
        self.api, self.urls, self.secret, self.connections = api, urls, secret, connections
        self.posted = 0
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(connections, thread_name_prefix="webhook-pusher")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhook-pusher", daemon=True)

    def start(self) -> None:
        """Start pushing."""
        self._thread.start()

    def stop(self) -> None:
        """Stop pushing."""
        self._stop.set()
        self._thread.join(timeout=10)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        offset: int | None = None
        with httpx.Client(trust_env=False, timeout=10,
                          limits=httpx.Limits(max_connections=self.connections)) as client:
            while not self._stop.is_set():
                updates = self.api.state.take_updates(offset, 100)
                if not updates:
                    time.sleep(0.005)
                    continue
                by_chat: dict[object, list[dict]] = {}
                for update in updates:
                    by_chat.setdefault(chat_of(update), []).append(update)
                for done in [self._pool.submit(self._post_all, client, chat) for chat in by_chat.values()]:
                    done.result()
                offset = updates[-1]["update_id"] + 1

    def _post_all(self, client: httpx.Client, updates: list[dict]) -> None:
        for update in updates:
            while not self._stop.is_set() and not self._post(client, update):
                time.sleep(0.05)

    def _post(self, client: httpx.Client, update: dict) -> bool:
        with self._lock:
            url = self.urls[self.posted % len(self.urls)]
            self.posted += 1
        try:
            return client.post(url, json=update, headers={SECRET_HEADER: self.secret}).status_code == 200
        except httpx.HTTPError:
            return False
