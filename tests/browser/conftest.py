"""Browser tests drive the real app in Debian's Chromium through Playwright.

The app runs as a real server (``huikuan serve``) on a free loopback port over a demo database
built for the run. Screenshots of the pages land in ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
AS_OF = "2026-06-30"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "Debian's chromium is missing: scripts/test.sh installs it (apt-get install chromium)"
        )
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'demo.db'}"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "huikuan",
            "demo",
            "--db",
            url,
            "--customers",
            "40",
            "--as-of",
            AS_OF,
        ],
        check=True,
        capture_output=True,
    )
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "huikuan", "serve", "--db", url, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


def screenshot(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, base: str, username: str, password: str = "huikuan2026") -> None:
    page.goto(f"{base}/?as_of={AS_OF}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


__all__ = ["AS_OF", "screenshot", "shutil", "sign_in"]
