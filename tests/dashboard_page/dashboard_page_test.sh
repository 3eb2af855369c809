#!/usr/bin/env bash
# The dashboard at / works in a browser without internet access: see BUILD.bazel.
#
#   tests/dashboard_page/dashboard_page_test.sh            (or bazel test //tests/dashboard_page/...)
#   MDS_DASHBOARD_SCREENSHOT=docs/images/dashboard.png tests/dashboard_page/dashboard_page_test.sh
#
# Needs chromium and Go (./deploy/dev test installs both); installs nothing itself.
set -euo pipefail

command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"
[[ -n "${HOME:-}" ]] || export HOME="${TEST_TMPDIR:-/tmp}"
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 ||
  { echo "chromium is not installed (Debian package chromium; ./deploy/dev test installs it)" >&2; exit 1; }

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ -n "${TEST_SRCDIR:-}" ]]; then
  # Runfiles are symlinks, and go:embed refuses symlinked files: test a dereferenced copy.
  src="$TEST_SRCDIR/${TEST_WORKSPACE:-__main__}/gateway"
  work="$TEST_TMPDIR/gateway"
  rm -rf "$work"
  mkdir -p "$work"
  cp -RL "$src/." "$work/"
else
  work="$here/../../gateway"
fi
if [[ -n "${MDS_DASHBOARD_SCREENSHOT:-}" && "$MDS_DASHBOARD_SCREENSHOT" != /* ]]; then
  MDS_DASHBOARD_SCREENSHOT="$PWD/$MDS_DASHBOARD_SCREENSHOT"
fi
cd "$work"
exec go test -count=1 -tags browser -run '^TestDashboardInBrowser$' -v ./internal/gateway/ 2>&1
