#!/usr/bin/env bash
# Vets and tests the gateway module with the go tool (rules_go cannot be fetched offline).
# Run by `bazel test //gateway:gateway_test`, or by hand: gateway/go_test.sh [go test flags].
#
# Go reads HOME, GOPATH, GOCACHE, GOMODCACHE, GOFLAGS and PATH, which .bazelrc passes through
# --test_env. The modules must already be in the module cache (go mod download) when offline.
set -euo pipefail

if ! command -v go >/dev/null 2>&1; then
  export PATH="$PATH:/usr/local/go/bin"
fi
if [[ -z "${HOME:-}" ]]; then
  export HOME="${TEST_TMPDIR:-/tmp}"
fi

src="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ -n "${TEST_SRCDIR:-}" ]]; then
  # Runfiles are symlinks, and go:embed refuses symlinked files: test a dereferenced copy.
  work="$TEST_TMPDIR/gateway"
  rm -rf "$work"
  mkdir -p "$work"
  cp -RL "$src/." "$work/"
  cd "$work"
else
  cd "$src"
fi

go version
go vet ./...
go test -count=1 "$@" ./...
