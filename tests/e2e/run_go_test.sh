#!/usr/bin/env bash
# Runs the Go end-to-end tests under `bazel test`: run_go_test.sh <mds-api> <mds-consumer>
# [go test flags], e.g. --test_arg=-run=TestAveragesDoNotDependOnArrivalOrder to run one.
# The Go module is used from the source tree (it refers to ../../gateway), the binaries from
# Bazel's outputs; MDS_GATEWAY_BIN and the MDS_TEST_* settings come from ./deploy/dev test.
set -euo pipefail
export MDS_API_BIN="$(realpath "$1")"
export MDS_CONSUMER_BIN="$(realpath "$2")"
shift 2
module_dir="$(dirname "$(realpath "tests/e2e/go.mod")")"
export PATH="$PATH:/usr/local/go/bin"
cd "$module_dir"
exec go test -count=1 -v "$@" ./... 2>&1
