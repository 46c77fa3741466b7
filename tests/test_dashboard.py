"""End-to-end: serve dashboard/explorer.ipynb with Voilà and drive it in headless Chromium.

Needs the Debian browser at /usr/bin/chromium (scripts/install_browser.sh); Playwright's own
browser downloads are never used. Voilà listens on 127.0.0.1 only, on a free port, and is always
stopped (with its kernel) at the end.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "dashboard" / "explorer.ipynb"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason="headless end-to-end test needs /usr/bin/chromium "
                                       "(run scripts/install_browser.sh)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def voila_url(tmp_path):
    port = _free_port()
    env = dict(os.environ, MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1", PYDEVD_DISABLE_FILE_VALIDATION="1")
    log = open(tmp_path / "voila.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "voila", str(NOTEBOOK), "--no-browser", f"--port={port}",
                             "--Voila.ip=127.0.0.1"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)

    def stop():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        log.close()

    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 45
        while True:
            if proc.poll() is not None:
                raise RuntimeError("Voilà exited early:\n" + (tmp_path / "voila.log").read_text())
            try:  # the port accepts connections once Voilà serves
                with socket.create_connection(("127.0.0.1", port), timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("Voilà did not start within 45 s:\n" + (tmp_path / "voila.log").read_text())
                time.sleep(0.5)
        yield url
    finally:
        stop()
    assert proc.poll() is not None  # Voilà is gone


def test_dashboard_changes_view_on_run(voila_url, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    profile = tmp_path / "chromium-profile"
    with sync_api.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(str(profile), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                                   headless=True, viewport={"width": 1300, "height": 1500})
        try:
            page = ctx.new_page()
            page.set_default_timeout(60_000)
            page.goto(voila_url)
            explorer = page.locator(".toolkit-explorer")
            explorer.wait_for()
            page.wait_for_selector(".toolkit-explorer img[src]")
            page.wait_for_selector(".toolkit-explorer .toolkit-result")
            table_before = page.locator(".toolkit-result").inner_text()
            src_before = explorer.locator("img").first.get_attribute("src")
            code_before = explorer.locator("textarea").first.input_value()
            assert "dv='comments'" in code_before and "subject='account'" in code_before
            assert "comments" in table_before

            metric = explorer.locator("select").first
            metric.select_option(label="likes (count per post)")
            explorer.locator("select").nth(3).select_option(label="welch")
            # nothing changes until Run is clicked
            page.wait_for_timeout(500)
            assert page.locator(".toolkit-result").inner_text() == table_before
            page.get_by_role("button", name="Run").click()
            page.wait_for_function("old => { const t = document.querySelector('.toolkit-result');"
                                   " return t && t.innerText !== old; }", arg=table_before)
            page.wait_for_function("old => { const i = document.querySelector('.toolkit-explorer img');"
                                   " return i && i.getAttribute('src') !== old; }", arg=src_before)
            table_after = page.locator(".toolkit-result").inner_text()
            code_after = explorer.locator("textarea").first.input_value()
            assert table_after != table_before
            assert "likes" in table_after and "welch_anova" in table_after and "games_howell" in table_after
            assert explorer.locator("img").first.get_attribute("src") != src_before
            assert "dv='likes'" in code_after and "analysis='welch'" in code_after
            shot = tmp_path / "dashboard-screenshot.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            ctx.close()
    assert shot.stat().st_size > 10_000
    reports = ROOT / "reports"
    reports.mkdir(exist_ok=True)
    shutil.copyfile(shot, reports / "dashboard-screenshot.png")
