# Sourced by the configuration tests (//deploy/prometheus, //deploy/grafana, //deploy/docker):
# the machine's tools they run, which the project's installer (deploy/lib/install.sh) installs.
# A missing tool fails the test rather than skipping it.

# Sets `promtool` (Debian's `prometheus` package).
require_promtool() {
  promtool="$(command -v promtool || true)"
  [[ -n "$promtool" ]] || promtool=/usr/bin/promtool
  if [[ ! -x "$promtool" ]]; then
    echo "FAIL: promtool not found (Debian package 'prometheus'; ./deploy/dev install installs it)" >&2
    exit 1
  fi
}

# Sets `python`: Debian's python3 with python3-yaml, not a virtualenv's.
require_python_yaml() {
  python=/usr/bin/python3
  if ! "$python" -c 'import yaml' 2>/dev/null; then
    echo "FAIL: $python with PyYAML is needed (Debian packages python3 python3-yaml)" >&2
    exit 1
  fi
}
