#!/usr/bin/env bash
# Checks and unit-tests the alert rules with promtool (Debian's prometheus package; .ci/run
# extracts it into tools/promtool without starting any service).
set -euo pipefail
cd "$(dirname "$0")"
promtool=$(command -v promtool || true)
[ -n "$promtool" ] || { [ -x ../tools/promtool/usr/bin/promtool ] && promtool=../tools/promtool/usr/bin/promtool; }
if [ -z "$promtool" ]; then
  echo "skipped: promtool not found (apt-get download prometheus && dpkg -x into tools/promtool)"
  exit 0
fi
"$promtool" check rules alerts.yml
"$promtool" test rules alerts_test.yml
