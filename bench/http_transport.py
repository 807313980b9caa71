"""CPU per Bot API call of python-telegram-bot's transports: HTTPXRequest (PTB's default) vs AiohttpRequest.

Sends M sendMessage calls through a real telegram.Bot to the Bot API stand-in and prints, per transport,
the CPU microseconds this process spent per call (time.process_time around the send loop). The stand-in
runs in a subprocess, so that figure is the client's alone: PTB building the request and parsing the
Message, plus the transport. A third line sends the same form-encoded POSTs with a bare aiohttp session
(no PTB) as the floor.

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
from telegram.request import HTTPXRequest  # noqa: E402

from bot.adapters.telegram.aiohttp_request import AiohttpRequest  # noqa: E402

TOKEN = "123:BENCH"
TEXT = "Over the last 2 weeks, how often have you been bothered by little interest or pleasure in doing things?"
TICK = os.sysconf("SC_CLK_TCK")
SERVE = """
import asyncio, sys
from bot.standins.telegram_api import FakeBotApi

async def main():
    api = FakeBotApi(token=sys.argv[2], port=int(sys.argv[1]))
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
    runs = {
        "HTTPXRequest": lambda: through_ptb(HTTPXRequest, base_url, args.messages, args.concurrency),
        "AiohttpRequest": lambda: through_ptb(AiohttpRequest, base_url, args.messages, args.concurrency),
        "bare aiohttp (no PTB)": lambda: through_bare_aiohttp(base_url, args.messages, args.concurrency),
    }
    try:
        print(f"{args.messages} sendMessage calls, concurrency {args.concurrency}, stand-in in pid {standin.pid}, "
              f"Python {sys.version.split()[0]}, aiohttp {aiohttp.__version__}")
        for name, run in runs.items():
            cpu_runs, wall_runs, server_runs = [], [], []
            for _ in range(args.repeat):
                server_before = cpu_seconds(standin.pid)
                cpu, wall = asyncio.run(run())
                cpu_runs.append(cpu)
                wall_runs.append(wall)
                server_runs.append(cpu_seconds(standin.pid) - server_before)  # includes the warm-up calls
            per_call = 1e6 / args.messages
            print(f"{name:<22} client CPU {statistics.median(cpu_runs) * per_call:7.1f} us/request   "
                  f"wall {statistics.median(wall_runs) * per_call:7.1f} us/request   "
                  f"(stand-in CPU ~{statistics.median(server_runs) * 1e6 / (args.messages + min(200, args.messages)):.0f}"
                  f" us/request)", flush=True)
    finally:
        standin.terminate()
        standin.wait(timeout=10)


if __name__ == "__main__":
    main()
