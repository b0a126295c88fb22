#!/usr/bin/env bash
# Install Debian's Chromium for the dashboard's end-to-end test (tests/test_dashboard_browser.py).
# Playwright drives this system browser (executable /usr/bin/chromium); a Playwright browser
# download (`playwright install`) is not needed. Run as root; idempotent.
set -euo pipefail

if ! command -v chromium >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
# (Debian's /usr/bin/chromium wrapper may print a harmless "[: unexpected operator" line.)
chromium --version 2>/dev/null | grep -i chromium
