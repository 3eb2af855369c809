#!/usr/bin/env bash
# docker-compose.yml is valid and passes each service what it reads: `docker-compose config`
# (Compose v1, Debian's package, needs no Docker engine; `docker compose` v2 when that is what
# the machine has) renders it without a .env, with the observability and replicated profiles,
# and with a .env giving every setting of .env.example a value of its own; compose_check.py then
# compares the results with the settings tables of docs/configuration.md, the host ports
# docs/deployment.md names and the files the stack mounts.
#
#   compose_test.sh <compose_check.py> <docker-compose.yml> <.env.example> \
#                   <docs/configuration.md> <docs/deployment.md> \
#                   <.dockerignore> <per-Dockerfile .dockerignore>...
# Run from the runfiles root, where deploy/prometheus and deploy/grafana sit as in the repository.
set -euo pipefail

checker="$1" compose_file="$2"
shift 2
env_example="$1"

if command -v docker-compose >/dev/null; then
  compose=(docker-compose)
elif [[ -x /usr/bin/docker-compose ]]; then
  compose=(/usr/bin/docker-compose)
elif docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  echo "FAIL: neither docker-compose (Debian package docker-compose; ./deploy/dev install installs it) nor 'docker compose' found" >&2
  exit 1
fi
source deploy/prometheus/test_tools.sh
require_python_yaml

tmp="${TEST_TMPDIR:-$(mktemp -d)}"
project="$PWD"
: >"$tmp/empty.env"
# Every setting named in .env.example, active or commented, set to a value no default has.
sed -nE 's/^(# )?([A-Z][A-Z0-9_]*)=.*$/\2=from-env-\2/p' "$env_example" >"$tmp/all.env"

# compose_config NAME ENV_FILE [compose options...]: the rendered file in $tmp/NAME.yml. The
# environment is emptied so that nothing but the env file sets a variable.
compose_config() {
  local name="$1" env_file="$2"
  shift 2
  if ! env -i PATH="$PATH" HOME="$tmp" "${compose[@]}" -f "$compose_file" \
       --project-directory "$project" --env-file "$env_file" "$@" config \
       >"$tmp/$name.yml" 2>"$tmp/$name.err"; then
    echo "FAIL: ${compose[*]} config $* (env file $env_file) failed:" >&2
    cat "$tmp/$name.err" >&2
    exit 1
  fi
  # Warnings (an unset variable, an obsolete key) are failures too: every variable has a default.
  if grep -v '^\s*$' "$tmp/$name.err" >&2; then
    echo "FAIL: ${compose[*]} config $* warned (above)" >&2
    exit 1
  fi
}
compose_config default "$tmp/empty.env"
compose_config observability "$tmp/empty.env" --profile observability
compose_config replicated "$tmp/empty.env" --profile replicated
compose_config all_settings "$tmp/all.env"
echo "rendered with ${compose[*]}: $("${compose[@]}" version 2>/dev/null | head -n1)"

"$python" "$checker" \
  --default "$tmp/default.yml" \
  --observability "$tmp/observability.yml" \
  --replicated "$tmp/replicated.yml" \
  --all-settings "$tmp/all_settings.yml" \
  --project "$project" \
  "$@"
