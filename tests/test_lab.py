"""`make lab` serves JupyterLab on 127.0.0.1 with token authentication kept on (a real server)."""
from __future__ import annotations

import os
import re
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def test_makefile_lab_keeps_token_and_loopback():
    recipe = re.search(r"^lab:.*\n\t(.*)$", (ROOT / "Makefile").read_text(), flags=re.M).group(1)
    assert "--ip 127.0.0.1" in recipe and "token" not in recipe.lower()
    assert "$(LAB_ROOT)" in recipe and "--allow-root" in (ROOT / "Makefile").read_text()


def test_jupyterlab_starts_and_requires_the_token(tmp_path):
    port, token = _free_port(), "test-token-123"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg")}
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip", "127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT / 'notebooks'}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")  # as the Makefile does
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if _status(f"{base}/api/status?token={token}") == 200:
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not answer within 60 s")
        assert _status(f"{base}/api/status?token={token}") == 200
        assert _status(f"{base}/api/contents/tutorials?token={token}") == 200
        assert _status(f"{base}/api/status") == 403  # no token, no access
        assert _status(f"{base}/lab?token={token}") == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
