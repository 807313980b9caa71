"""Browser fixtures: the clinic sandbox on 127.0.0.1 and Debian's headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from bot.config import data_dir, settings
from bot.sandbox.host import Sandbox

CHROMIUM = Path("/usr/bin/chromium")
EXAMPLE = data_dir("config") / "clinic.example.toml"  # the clinic file `carebridge sandbox` runs by default
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
EXPECT_MS = 15_000  # CareBridge answers in well under a second; this is the ceiling on a slow, busy machine


# Module scope, not session: Playwright's sync API keeps an event loop running in this thread until it stops,
# and the tests collected after these call asyncio.run().
@pytest.fixture(scope="module")
def browser():
    """Launch headless Chromium once per module (skip, naming the package, when it is not installed)."""
    if os.environ.get("TEST_DATABASE_URL"):
        pytest.skip("the sandbox always runs on a SQLite file of its own: these tests ran in the SQLite pass")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed: pip install -e '.[dev]'")
    if not CHROMIUM.exists():
        pytest.skip("Debian package chromium is not installed (/usr/bin/chromium missing): "
                    "run `make test` as root, or apt-get install chromium chromium-driver")
    sync_api.expect.set_options(timeout=EXPECT_MS)
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


@pytest.fixture
def sandbox():
    """Run a fresh sandbox (its own clinic day, database and stand-ins) for one test."""
    with Sandbox(settings().model_copy(update={"carebridge_config": EXAMPLE}), port=0).running() as running:
        yield running


@pytest.fixture
def page(browser, sandbox, request):
    """Open the sandbox page; afterwards save a screenshot and fail on any script error the page raised."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(EXPECT_MS)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.goto(sandbox.url)
    yield opened
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    opened.screenshot(path=str(ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', request.node.name)}.png"),
                      full_page=True)
    context.close()
    assert errors == [], f"the page raised script errors: {errors}"
