#!/usr/bin/env bash
# Renders deploy/k8s (the base and every overlay) with kustomize's Go library and checks every
# object against the Kubernetes API types and the service's own settings, routes and drains.
# Run by `bazel test //deploy/k8s:manifests_test`, or by hand: deploy/k8s/check/go_test.sh.
#
# The module is tested in the source tree, where the paths it reads (../base, ../overlays,
# .env.example, the gateway's handlers and the services' main.cc) are real files: kustomize
# refuses files that resolve outside a kustomization's folder, as Bazel's runfile links do.
# Go reads HOME, GOPATH, GOCACHE, GOMODCACHE, GOFLAGS and PATH, which .bazelrc passes through
# --test_env; the modules come from the module proxy into the module cache on the first run.
set -euo pipefail

if ! command -v go >/dev/null 2>&1; then
  export PATH="$PATH:/usr/local/go/bin"
fi
if [[ -z "${HOME:-}" ]]; then
  export HOME="${TEST_TMPDIR:-/tmp}"
fi

if [[ -n "${TEST_SRCDIR:-}" ]]; then
  cd "$(dirname "$(realpath deploy/k8s/check/go.mod)")"
else
  cd "$(dirname "${BASH_SOURCE[0]}")"
fi

go version
go vet ./...
go test -count=1 "$@" ./...
