"""`carebridge sandbox` as a trainer starts and stops it: a URL, a working page, and a clean Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from typer.testing import CliRunner

from bot.cli import app


def test_sandbox_refuses_a_non_loopback_address():
    done = CliRunner().invoke(app, ["sandbox", "--host", "0.0.0.0"])
    assert done.exit_code == 2
    assert "loopback" in done.output


def test_ctrl_c_stops_everything_cleanly_and_deletes_the_days_files(tmp_path):
    script = Path(sys.executable).with_name("carebridge")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    with subprocess.Popen([str(script), "sandbox", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env=env) as process:
        try:
            first = process.stdout.readline()
            assert first.startswith("CareBridge clinic sandbox: http://127.0.0.1:"), first
            url = first.split(": ", 1)[1].strip()
            assert "clinic sandbox" in httpx.get(url, trust_env=False, timeout=10).text
            assert any(tmp_path.glob("carebridge-sandbox-*/clinic.db"))
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0, err
    assert "Traceback" not in err and err.strip() == ""
    assert "Stopped" in out
    assert list(tmp_path.glob("carebridge-sandbox-*")) == []
