#!/bin/bash
# The web console's numbers (issue 13), measured by its browser test in a
# release build: Debian's Chromium through Playwright against
# `yurta system service --web` — the first page usable (to its first data,
# median of 5 loads), the JavaScript and CSS transferred, a keystroke's
# echo in a terminal (median and worst of 20), and the service's resident
# memory (all of it and the part that is not the binary) before and with
# ten open terminals. With -s DIR the screenshots of docs/web.md are
# written to DIR as well.
#
#   sudo bench/web.sh [-s docs/web]
#
# Needs what scripts/test.sh installs (chromium, Playwright in
# /opt/yurta-test/playwright, QEMU for the two VMs) and built pages
# (scripts/web.sh). Results: docs/benchmarks.md.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
shots=
while getopts s: o; do
    case $o in
    s) shots=$(realpath "$OPTARG") ;;
    *) exit 2 ;;
    esac
done
cd "$repo"
[ -f web/dist/index.html ] || ./scripts/web.sh >/dev/null
[ -n "$shots" ] && mkdir -p "$shots"
YURTA_WEB_SHOTS=$shots cargo test --release -q -p yurta --test web_browser -- --nocapture 2>&1 |
    sed -n 's/^measurements: //p'
printf 'machine: %s, %s CPUs; %s\n' "$(uname -m)" "$(nproc)" "$(date -u +%Y-%m-%d)"
