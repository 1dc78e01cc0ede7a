"""Take the screenshots of docs/screenshots/ from a demo node, in Debian's Chromium.

    .venv/bin/python scripts/screenshots.py

Loads the demo into a temporary SQLite file, serves it on a free 127.0.0.1 port, signs in as
the FR CERT analyst and saves the dashboard, the incident form and the public observatory.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CLI = Path(sys.executable).with_name("trustbubble")
EMAIL, PASSWORD = "analyst@fr-cert.demo.test", "demo-analyst-fr-cert"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait(url: str) -> None:
    for _ in range(100):
        try:
            if httpx2.get(url).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the demo node did not answer at {url}")


def _shoot(page: Page, name: str) -> None:
    page.wait_for_timeout(500)  # charts draw after load
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=False)
    print(f"saved {OUT / name}.png")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        env = {**os.environ, "TRUSTBUBBLE_DATABASE_URL": f"sqlite:///{work}/demo.sqlite3"}
        subprocess.run([CLI, "demo", "--no-serve"], env=env, check=True, capture_output=True)
        port = _port()
        server = subprocess.Popen(
            [CLI, "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait(base + "/sign-in")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", args=FLAGS
                )
                page = browser.new_page(viewport={"width": 1280, "height": 860})
                page.goto(base + "/sign-in")
                page.get_by_label("E-mail").fill(EMAIL)
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(base + "/")
                _shoot(page, "dashboard")
                page.get_by_role(
                    "link", name="Europe–Africa–Latin America health CERT network"
                ).click()
                page.get_by_role("link", name="Report an incident").click()
                _shoot(page, "incident-form")
                page.goto(base + "/observatory")
                _shoot(page, "observatory")
                page.goto(base + "/norms/compare?country=FR&country=KE&country=DE")
                _shoot(page, "norms-comparison")
                page.goto(base + "/exercises")
                page.get_by_role(
                    "link", name="Health diplomacy course: ransomware across borders"
                ).click()
                page.get_by_role("link", name="After-action report").first.click()
                page.locator("canvas").first.wait_for()
                _shoot(page, "exercise-report")
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
