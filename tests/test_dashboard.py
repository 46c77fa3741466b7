"""End-to-end: serve dashboard/explorer.ipynb with Voilà (token on) and drive it in headless Chromium.

Needs the Debian browser at /usr/bin/chromium (scripts/install_browser.sh); Playwright's own
browser downloads are never used. Voilà listens on 127.0.0.1 only, on a free port, with a token
(as `make dashboard`), and is always stopped (with its kernel) at the end.
"""
from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "dashboard" / "explorer.ipynb"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(),
                                    reason="headless end-to-end test needs /usr/bin/chromium "
                                           "(run scripts/install_browser.sh)")


def test_makefile_dashboard_keeps_token_and_loopback():
    recipe = re.search(r"^dashboard:.*\n\t(.*)$", (ROOT / "Makefile").read_text(), flags=re.M).group(1)
    assert "--Voila.ip=127.0.0.1" in recipe and recipe.rstrip().endswith("--token")


def test_dashboard_page_describes_the_data_it_uses():
    import json

    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    text = "".join(cells[0]["source"])
    code = "".join(cells[1]["source"])
    call = re.search(r"`(tk\.simulate_organization\([^`]*\))`", text).group(1)
    assert f"org = {call}" in code  # the page states the exact call that makes its data
    assert code.count(call) == 2    # in the code that runs and in DATA_CODE (checked by explore)
    assert "data_code=DATA_CODE" in "".join(cells[2]["source"])


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _request(url, method="GET"):
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, method=method), timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def voila_url(tmp_path):
    """Base URL of a Voilà server started as `make dashboard` does, with a known token."""
    port = _free_port()
    token = secrets.token_hex(16)
    env = dict(os.environ, MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1", PYDEVD_DISABLE_FILE_VALIDATION="1")
    log = open(tmp_path / "voila.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "voila", str(NOTEBOOK), "--no-browser", f"--port={port}",
                             "--Voila.ip=127.0.0.1", f"--Voila.token={token}"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)

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
        yield url, token
    finally:
        stop()
    assert proc.poll() is not None  # Voilà is gone


@pytest.mark.slow
@needs_chromium
def test_dashboard_token_stale_marker_and_rate_plot(voila_url, tmp_path):
    url, token = voila_url
    # without the token: no page (redirect to the token form), no kernel (403); a wrong token is refused too
    status, headers, body = _request(url)
    assert status in (302, 403) and "toolkit-explorer" not in body
    if status == 302:
        assert "/login" in headers.get("Location", "")
    assert _request(url + "?token=wrong")[0] in (302, 403)
    assert _request(url + "api/kernels", method="POST")[0] == 403

    sync_api = pytest.importorskip("playwright.sync_api")
    profile = tmp_path / "chromium-profile"
    with sync_api.sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(str(profile), executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                                   headless=True, viewport={"width": 1300, "height": 1500})
        try:
            page = ctx.new_page()
            page.set_default_timeout(60_000)
            response = page.goto(f"{url}?token={token}")
            assert response.status == 200
            explorer = page.locator(".toolkit-explorer")
            explorer.wait_for()
            page.wait_for_selector(".toolkit-explorer img[src]")
            page.wait_for_selector(".toolkit-explorer .toolkit-result")
            # the static snapshot (for pages without a kernel) is hidden under the live widget
            assert page.locator(".toolkit-static").count() >= 1
            assert not page.locator(".toolkit-static").first.is_visible()
            table_before = explorer.locator(".toolkit-result").inner_text()
            src_before = explorer.locator("img").first.get_attribute("src")
            code_before = explorer.locator("textarea").first.input_value()
            assert "dv='comments'" in code_before and "subject='account'" in code_before
            assert "org = tk.simulate_organization(n_accounts_per_department=4" in code_before
            assert "comments" in table_before
            assert page.locator(".toolkit-stale-note").count() == 0
            # answer first: the answer sentences sit above the plot, the full tables below it
            answer = explorer.locator(".toolkit-answer")
            assert answer.is_visible() and "Unit of analysis: " in answer.inner_text()
            assert "95% CI" in answer.inner_text()
            assert (answer.bounding_box()["y"] < explorer.locator("img").first.bounding_box()["y"]
                    < explorer.locator(".toolkit-result").bounding_box()["y"])

            metric = explorer.locator("select").first
            metric.select_option(label="likes (count per post)")
            explorer.locator("select").nth(3).select_option(label="welch")
            # nothing is recomputed until Run, and the view says it is stale
            page.locator(".toolkit-stale-note").wait_for()
            assert "previous settings" in page.locator(".toolkit-stale-note").inner_text()
            assert explorer.locator(".toolkit-result").inner_text() == table_before
            page.get_by_role("button", name="Run").click()
            page.wait_for_function("old => { const t = document.querySelector('.toolkit-explorer .toolkit-result');"
                                   " return t && t.innerText !== old; }", arg=table_before)
            page.wait_for_function("old => { const i = document.querySelector('.toolkit-explorer img');"
                                   " return i && i.getAttribute('src') !== old; }", arg=src_before)
            page.locator(".toolkit-stale-note").wait_for(state="detached")
            table_after = explorer.locator(".toolkit-result").inner_text()
            code_after = explorer.locator("textarea").first.input_value()
            assert table_after != table_before
            assert "likes" in table_after and "welch_anova" in table_after and "games_howell" in table_after
            assert "dv='likes'" in code_after and "analysis='welch'" in code_after

            # a rate (values 0-0.2): the plot is redrawn and shown
            src_likes = explorer.locator("img").first.get_attribute("src")
            metric.select_option(label="engagement_rate_reach (interactions / reach)")
            page.get_by_role("button", name="Run").click()
            page.wait_for_function("old => { const i = document.querySelector('.toolkit-explorer img');"
                                   " return i && i.getAttribute('src') !== old && i.complete"
                                   " && i.naturalWidth > 400; }", arg=src_likes)
            assert "engagement_rate_reach" in explorer.locator(".toolkit-result").inner_text()
            assert explorer.locator("img").first.is_visible()
            shot = tmp_path / "dashboard-screenshot.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            ctx.close()
    assert shot.stat().st_size > 10_000
    reports = ROOT / "reports"
    reports.mkdir(exist_ok=True)
    shutil.copyfile(shot, reports / "dashboard-screenshot.png")
