#!/usr/bin/env bash
# Fails when the committed generated code (gateway/gen) or the OpenAPI document
# (gateway/openapi/marketdata.swagger.json) no longer match proto/: regenerates both from the
# protos with the pinned plugins and compares. Fix a failure with gateway/generate.sh.
set -euo pipefail
# Plugins are built into the test's own folder, never into the source tree.
export GATEWAY_BIN_DIR="${TEST_TMPDIR:-$(mktemp -d)}/bin"
exec "$(dirname "${BASH_SOURCE[0]}")/generate.sh" --check
