"""The console as a person uses it: `carebridge chat` killed and restarted, and `carebridge demo`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import create_engine, text

CAREBRIDGE = str(Path(sys.executable).with_name("carebridge"))


def answers_in(database: Path) -> int:
    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            return connection.execute(text("select count(*) from answer")).scalar_one()
    except Exception:
        return 0
    finally:
        engine.dispose()


def test_chat_killed_mid_screening_resumes_with_every_answer(tmp_path):
    database = tmp_path / "chat.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    env.pop("CAREBRIDGE_CONFIG", None)
    first = subprocess.Popen([CAREBRIDGE, "chat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env, cwd=tmp_path)
    first.stdin.write("I agree\n3\n3\n2\n")
    first.stdin.flush()
    deadline = time.monotonic() + 60
    while answers_in(database) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=30)
    assert answers_in(database) == 3

    second = subprocess.run([CAREBRIDGE, "chat"], input="2\n", capture_output=True, text=True, env=env, cwd=tmp_path,
                            timeout=120)
    assert second.returncode == 0, second.stderr
    resumed = second.stdout.split("Welcome back! Let's continue where you left off.", 1)[1]
    assert resumed.lstrip().startswith("4 of 9")
    assert "5 of 9" in resumed
    assert answers_in(database) == 4


def test_demo_shows_a_clinic_day_with_crisis_resources_before_the_page(tmp_path):
    done = subprocess.run([CAREBRIDGE, "demo"], capture_output=True, text=True, cwd=tmp_path, timeout=300,
                          env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    out = done.stdout
    crisis = out.index("Si está pensando en hacerse daño, busque ayuda ahora")
    urgent_page = out.index("page to the behavioral health team: URGENT")
    assert crisis < urgent_page
    assert "page to the behavioral health team: ROUTINE" in out
    assert "screenings completed: 3" in out
    assert "Traceback" not in out + done.stderr
    assert list(tmp_path.iterdir()) == []  # the demo leaves no database behind
