#!/usr/bin/env bash
# Fails when the committed generated code (gateway/gen) or the OpenAPI 3 document
# (gateway/openapi/openapi.json) no longer match proto/, http.yaml and openapi/overlay.yaml:
# regenerates both with the pinned plugins and cmd/openapi3, and compares. Fix a failure with gateway/generate.sh.
set -euo pipefail
# Plugins are built into the test's own folder, never into the source tree.
export GATEWAY_BIN_DIR="${TEST_TMPDIR:-$(mktemp -d)}/bin"
exec "$(dirname "${BASH_SOURCE[0]}")/generate.sh" --check
