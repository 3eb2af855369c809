#!/usr/bin/env bash
# Regenerates the gateway's Go code and OpenAPI document from proto/marketdata/v1.
#
#   gateway/generate.sh          write gateway/gen/marketdata/v1/*.go and gateway/openapi/openapi.json
#   gateway/generate.sh --check  regenerate into a temporary folder and fail if the committed
#                                files differ (stale generated code or document)
#
# The document: protoc-gen-openapiv2 writes Swagger 2.0 (into a temporary folder); cmd/openapi3
# converts it to OpenAPI 3.0.3 and applies openapi/overlay.yaml, what the generator cannot know
# (every status, constraints, security). openapi/openapi.json is what the gateway embeds and
# serves at /openapi.json.
#
# Plugin versions are pinned once, by the `tool` directives in gateway/go.mod, so the plugins
# always match the runtime libraries the gateway links. They are installed into $GATEWAY_BIN_DIR
# (default <repo>/.local/bin). PROTOC overrides the compiler (default /usr/bin/protoc).
set -euo pipefail

gateway_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$gateway_dir/.." && pwd)"
bin_dir="${GATEWAY_BIN_DIR:-$repo_root/.local/bin}"
protoc="${PROTOC:-/usr/bin/protoc}"
http_config="proto/marketdata/v1/http.yaml"
openapi_name="marketdata"   # protoc-gen-openapiv2 writes <tmp>/marketdata.swagger.json

check=0
case "${1:-}" in
  "") ;;
  --check) check=1 ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

command -v go >/dev/null || export PATH="$PATH:/usr/local/go/bin"
mkdir -p "$bin_dir"
(cd "$gateway_dir" && GOBIN="$bin_dir" go install tool)

generate() {  # $1: folder standing for gateway/
  local out="$1" swagger
  swagger="$(mktemp -d)"
  mkdir -p "$out/openapi"
  (
    cd "$repo_root"
    "$protoc" -I . \
      --plugin=protoc-gen-go="$bin_dir/protoc-gen-go" \
      --plugin=protoc-gen-go-grpc="$bin_dir/protoc-gen-go-grpc" \
      --go_out="$out" --go_opt=module=marketdata/gateway \
      --go-grpc_out="$out" --go-grpc_opt=module=marketdata/gateway \
      proto/marketdata/v1/*.proto
    # The REST surface: every service but ApiKeyService, which is served over gRPC only.
    "$protoc" -I . \
      --plugin=protoc-gen-grpc-gateway="$bin_dir/protoc-gen-grpc-gateway" \
      --plugin=protoc-gen-openapiv2="$bin_dir/protoc-gen-openapiv2" \
      --grpc-gateway_out="$out" \
      --grpc-gateway_opt=module=marketdata/gateway,grpc_api_configuration="$http_config",generate_unbound_methods=false \
      --openapiv2_out="$swagger" \
      --openapiv2_opt=grpc_api_configuration="$http_config",generate_unbound_methods=false,allow_merge=true,merge_file_name="$openapi_name",output_format=json,json_names_for_fields=false,disable_default_errors=true,openapi_configuration=gateway/openapi/openapi.yaml \
      $(ls proto/marketdata/v1/*.proto | grep -v /api_keys.proto)
  )
  (
    cd "$gateway_dir"
    go run ./cmd/openapi3 -in "$swagger/$openapi_name.swagger.json" \
      -overlay openapi/overlay.yaml -out "$out/openapi/openapi.json"
  )
  rm -rf "$swagger"
}

if [[ $check == 0 ]]; then
  rm -rf "$gateway_dir/gen"
  rm -f "$gateway_dir/openapi/openapi.json"
  generate "$gateway_dir"
  exit 0
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
generate "$tmp"
status=0
diff -r "$tmp/gen" "$gateway_dir/gen" || status=1
diff "$tmp/openapi/openapi.json" "$gateway_dir/openapi/openapi.json" || status=1
if [[ $status != 0 ]]; then
  echo "generated code is stale: run gateway/generate.sh and commit the result" >&2
  exit 1
fi
echo "generated code is up to date"
