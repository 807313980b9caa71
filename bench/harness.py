"""What the issue-7 benchmarks share: `carebridge run` as a subprocess, timed watchers, /proc readings, percentiles."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CAREBRIDGE = str(Path(sys.executable).with_name("carebridge"))


class StampedQueue(queue.Queue):
    """A stand-in watcher that keeps, with each message, the monotonic time the stand-in stored it."""

    def put(self, item, block: bool = True, timeout: float | None = None) -> None:
        """Queue (arrival time, message)."""
        super().put((time.monotonic(), item), block, timeout)


def stamped_watch(api) -> StampedQueue:
    """Return a queue of (time, message) for every message a stand-in (Telegram or Slack) receives from now on."""
    watcher = StampedQueue()
    with api.state.lock:
        api.state.watchers.append(watcher)
    return watcher


def wait(condition, timeout: float, what: str, step: float = 0.05) -> None:
    """Poll condition() until it is true; raise TimeoutError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(step)


def free_port() -> int:
    """Return a loopback port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_carebridge(api, folder: Path, command: list[str] | None = None, **env: str) -> subprocess.Popen:
    """Start `carebridge run` (or command) against the Bot API stand-in with these settings; return once it polls."""
    full = {key: value for key, value in os.environ.items() if key != "TELEGRAM_RATE_LIMIT"}
    full.update(TELEGRAM_BOT_TOKEN=api.token, TELEGRAM_API_BASE_URL=api.base_url,
                CAREBRIDGE_HTTP_PORT=str(free_port()), **env)
    polls = api.state.calls.__len__()
    log_path = folder / "bot.log"
    with log_path.open("ab") as log:  # a file, not a pipe: a full pipe would stall the bot
        process = subprocess.Popen(command or [CAREBRIDGE, "run"], env=full, stdout=log, stderr=subprocess.STDOUT,
                                   cwd=folder)

    def polling() -> bool:
        with api.state.lock:
            calls = api.state.calls[polls:]
        return process.poll() is not None or sum(c.method.lower() == "getupdates" for c in calls) > 1

    wait(polling, 120, "carebridge to poll")
    if process.poll() is not None:
        raise RuntimeError(f"carebridge exited: {log_path.read_text(errors='replace')[-3000:]}")
    return process


def stop_carebridge(process: subprocess.Popen) -> None:
    """Stop the bot as Ctrl-C does, killing it if it does not finish within a minute."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def question_number(message) -> int | None:
    """Return N of a question message ('N of M' on its first line, with buttons), else None."""
    head = message.text.split("\n", 1)[0]
    parts = head.split(" ")
    if message.keyboard and len(parts) == 3 and parts[1] == "of" and parts[0].isdigit():
        return int(parts[0])
    return None


def button(message, label: str) -> str:
    """Return the callback data of the button with this label."""
    return dict(message.buttons)[label]


def memory_kb(pid: int) -> dict[str, int]:
    """Return VmRSS, VmHWM and the other Vm* lines of /proc/<pid>/status, in kB."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name.startswith(("Vm", "Rss")):
            found[name] = int(value.split()[0])
    return found


def load_average() -> str:
    """Return the 1, 5 and 15 minute load averages as uptime prints them."""
    return ", ".join(Path("/proc/loadavg").read_text().split()[:3])


def percentile(values: list[float], share: float) -> float:
    """Return the nearest-rank percentile (share in 0..1) of values."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-share * len(ordered) // 1))))
    return ordered[rank - 1]


def latency_line(name: str, seconds: list[float], shares=(0.5, 0.9, 0.99)) -> str:
    """Return 'name: p50 … ms  p90 … ms  p99 … ms  max … ms  (count n)' for latencies given in seconds."""
    if not seconds:
        return f"{name}: no samples"
    parts = [f"p{round(share * 100)} {percentile(seconds, share) * 1000:7.1f} ms" for share in shares]
    return f"{name}: {'  '.join(parts)}  max {max(seconds) * 1000:7.1f} ms  (count {len(seconds)})"
