#!/usr/bin/env bash
# Render `dlquiz report` for a database and take a screenshot of the page in headless Chromium,
# to look at the charts as an operator would see them.
#
#   scripts/report-screenshot.sh DB OUT.png        (DB: a SQLite path or a PostgreSQL URL)
#
# Needs Chromium (Debian: apt-get install -y chromium). The page is self-contained (charts are
# data URIs), so Chromium needs no network: background networking is turned off.
set -euo pipefail
if [ $# -ne 2 ]; then
    echo "usage: $0 DB OUT.png" >&2
    exit 2
fi
db="$1"
out="$2"
browser="$(command -v chromium || command -v chromium-browser || true)"
if [ -z "$browser" ]; then
    echo "$0: Chromium is not installed (Debian: apt-get install -y chromium)" >&2
    exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
DLQUIZ_DB="$db" dlquiz report --out "$work/report.html"
"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run \
    --user-data-dir="$work/profile" --window-size=1280,2400 \
    --screenshot="$out" "file://$work/report.html" 2>/dev/null
test -s "$out"
echo "$out: screenshot of the report for $db"
