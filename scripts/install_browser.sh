#!/usr/bin/env bash
# Install the headless browser used by tests/test_dashboard.py: Debian's Chromium (not Playwright's
# downloaded browsers; never run `playwright install`). Idempotent: does nothing when
# /usr/bin/chromium already exists. Needs root (apt-get).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install_browser.sh: needs root to run apt-get (try: sudo $0)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends chromium chromium-driver
/usr/bin/chromium --version || true
