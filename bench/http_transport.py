"""CPU per Bot API call of python-telegram-bot's transports: HTTPXRequest (PTB's default) vs AiohttpRequest.

Sends M sendMessage calls through a real telegram.Bot to the Bot API stand-in and prints, per transport,
the CPU microseconds this process spent per call (time.process_time around the send loop). The stand-in
runs in a subprocess, so that figure is the client's alone: PTB building the request and parsing the
Message, plus the transport. Two reference lines follow: the same form-encoded POSTs from a bare
aiohttp session (no PTB), and PTB with a transport that answers from memory (no HTTP at all).

    .venv/bin/python bench/http_transport.py [--messages 2000] [--concurrency 1] [--repeat 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from telegram import Bot  # noqa: E402
from telegram.request import BaseRequest, HTTPXRequest  # noqa: E402

from bot.adapters.telegram.aiohttp_request import AiohttpRequest  # noqa: E402

TOKEN = "123:BENCH"
TEXT = "Over the last 2 weeks, how often have you been bothered by little interest or pleasure in doing things?"
TICK = os.sysconf("SC_CLK_TCK")
# The stand-in binds its socket with proto 0, so asyncio does not set TCP_NODELAY on the connections it
# accepts, and uvicorn's two writes per response (head, body) meet Nagle + delayed ACK: every call after
# the first on a keep-alive connection then waits ~40 ms. The bench binds with IPPROTO_TCP instead.
SERVE = """
import asyncio, socket, sys
from bot.standins.telegram_api import FakeBotApi

class NoDelayBotApi(FakeBotApi):
    def _bind(self):
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((self.host, self.port))
        self.port = self._socket.getsockname()[1]

async def main():
    api = NoDelayBotApi(token=sys.argv[2], port=int(sys.argv[1]))
    await api.start()
    print("ready", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """Return the user+system CPU seconds a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def start_standin(port: int) -> subprocess.Popen:
    """Start FakeBotApi on port in a child process and wait until it accepts connections."""
    child = subprocess.Popen([sys.executable, "-c", SERVE, str(port), TOKEN], cwd=ROOT, stdout=subprocess.PIPE)
    if child.stdout.readline().strip() != b"ready":
        child.kill()
        raise RuntimeError("the stand-in did not start")
    return child


async def spread(count: int, concurrency: int, send) -> None:
    """Call send(i) for i in range(count) from `concurrency` workers."""
    numbers = iter(range(count))

    async def worker() -> None:
        for i in numbers:
            await send(i)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


class CannedRequest(BaseRequest):
    """Answer each method with a recorded response and no HTTP: what PTB itself costs per call."""

    def __init__(self, answers: dict[str, bytes]) -> None:
        self.answers = answers

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(self, url, method, request_data=None, *timeouts, **kw_timeouts) -> tuple[int, bytes]:
        if request_data is not None:  # encode the body as the transports do, then drop it
            urlencode(request_data.json_parameters).encode()
        return 200, self.answers[url.rsplit("/", 1)[1]]


async def recorded_answer(base_url: str, method: str, data: dict[str, str]) -> bytes:
    """Return the stand-in's raw answer to one call."""
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{base_url}{TOKEN}/{method}", data=data) as response:
            return await response.read()


async def through_ptb(request_class, base_url: str, messages: int, concurrency: int) -> tuple[float, float]:
    """Return (CPU seconds, wall seconds) for `messages` Bot.send_message calls over request_class."""
    pool = max(concurrency, 1)
    bot = Bot(TOKEN, base_url=base_url, request=request_class(connection_pool_size=pool),
              get_updates_request=request_class())
    async with bot:
        async def send(i: int) -> None:
            await bot.send_message(1_000_000 + i % 1000, TEXT)

        await spread(min(200, messages), concurrency, send)  # warm up: connections, caches
        cpu, wall = time.process_time(), time.perf_counter()
        await spread(messages, concurrency, send)
        return time.process_time() - cpu, time.perf_counter() - wall


async def through_bare_aiohttp(base_url: str, messages: int, concurrency: int) -> tuple[float, float]:
    """Return (CPU seconds, wall seconds) for the same POSTs from a bare aiohttp session, bodies pre-encoded."""
    url = f"{base_url}{TOKEN}/sendMessage"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    bodies = [urlencode({"chat_id": str(1_000_000 + i % 1000), "text": TEXT}).encode() for i in range(1000)]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=max(concurrency, 1))) as session:
        async def send(i: int) -> None:
            async with session.post(url, data=bodies[i % 1000], headers=headers) as response:
                await response.read()
                assert response.status == 200

        await spread(min(200, messages), concurrency, send)
        cpu, wall = time.process_time(), time.perf_counter()
        await spread(messages, concurrency, send)
        return time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", "-m", type=int, default=2000, help="sendMessage calls per transport")
    parser.add_argument("--concurrency", "-c", type=int, default=1, help="calls in flight at once")
    parser.add_argument("--repeat", "-r", type=int, default=1, help="runs per transport (the median is shown)")
    args = parser.parse_args()

    port = free_port()
    standin = start_standin(port)
    base_url = f"http://127.0.0.1:{port}/bot"
    try:
        answers = {"getMe": asyncio.run(recorded_answer(base_url, "getMe", {})),
                   "sendMessage": asyncio.run(recorded_answer(base_url, "sendMessage", {"chat_id": "1", "text": TEXT}))}
        runs = {
            "HTTPXRequest": lambda: through_ptb(HTTPXRequest, base_url, args.messages, args.concurrency),
            "AiohttpRequest": lambda: through_ptb(AiohttpRequest, base_url, args.messages, args.concurrency),
            "bare aiohttp (no PTB)": lambda: through_bare_aiohttp(base_url, args.messages, args.concurrency),
            "PTB alone (no HTTP)": lambda: through_ptb(lambda **_: CannedRequest(answers), base_url, args.messages,
                                                       args.concurrency),
        }
        print(f"{args.messages} sendMessage calls, concurrency {args.concurrency}, repeat {args.repeat}, "
              f"Python {sys.version.split()[0]}, aiohttp {aiohttp.__version__}, stand-in in a subprocess")
        calls = args.messages + min(200, args.messages)  # the stand-in also answers the warm-up calls
        for name, run in runs.items():
            cpu_runs, wall_runs, server_runs = [], [], []
            for _ in range(args.repeat):
                server_before = cpu_seconds(standin.pid)
                cpu, wall = asyncio.run(run())
                cpu_runs.append(cpu * 1e6 / args.messages)
                wall_runs.append(wall * 1e6 / args.messages)
                server_runs.append((cpu_seconds(standin.pid) - server_before) * 1e6 / calls)
            print(f"{name:<22} client CPU {statistics.median(cpu_runs):7.1f} us/request   "
                  f"wall {statistics.median(wall_runs):7.1f} us/request   "
                  f"(stand-in CPU ~{statistics.median(server_runs):.0f} us/request)", flush=True)
    finally:
        standin.terminate()
        standin.wait(timeout=10)


if __name__ == "__main__":
    main()
