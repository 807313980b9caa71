"""What the issue-7 benchmarks share: `carebridge run` as a subprocess, timed watchers, /proc readings, percentiles."""

from __future__ import annotations

import math
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
TICK = os.sysconf("SC_CLK_TCK")
FINISHED = ("That's all for now", "Thank you. Your total")  # the words after a screening's last answer


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


def enroll_to_first_question(api, arrivals, chats: list[int], start: str) -> dict[int, tuple[int, str]]:
    """Send each chat's `start`, agree to the consent; return each chat's first question (message id, first answer)."""
    for chat in chats:
        api.user_sends(chat, start)
    first_questions: dict[int, tuple[int, str]] = {}
    while len(first_questions) < len(chats):
        message = arrivals.get(timeout=600)
        labels = dict(message.buttons)
        if "I agree" in labels:
            api.user_presses(message.chat_id, message.message_id, labels["I agree"])
        elif question_number(message) == 1:
            first_questions[message.chat_id] = (message.message_id, message.buttons[0][1])
    return first_questions


def answer_in_closed_loop(api, arrivals, first_questions: dict[int, tuple[int, str]],
                          patience: float | None = None) -> int:
    """Press each chat's first answer, then the first answer of each next question as it arrives, until all finish
    (or `patience` seconds have passed, if given); return how many answers the bot took (its next message arrived)."""
    deadline = math.inf if patience is None else time.monotonic() + patience
    answered = dict.fromkeys(first_questions, 1)
    for chat, (message_id, data) in first_questions.items():
        api.user_presses(chat, message_id, data)
    done = taken = 0
    while done < len(first_questions):
        try:
            message = arrivals.get(timeout=min(600.0, max(0.0, deadline - time.monotonic())))
        except queue.Empty:
            if time.monotonic() >= deadline:
                return taken
            raise
        if message.text.startswith(FINISHED):
            done += 1
            taken += 1
        elif question_number(message) == answered[message.chat_id] + 1:
            answered[message.chat_id] += 1
            taken += 1
            api.user_presses(message.chat_id, message.message_id, message.buttons[0][1])
    return taken


def cpu_seconds(pid: int) -> tuple[float, float]:
    """Return the user and system CPU seconds a process has used, all its threads ((0, 0) once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0, 0.0
    return int(fields[11]) / TICK, int(fields[12]) / TICK


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
