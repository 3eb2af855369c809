#!/usr/bin/env bash
# /docs renders the API in a browser without internet access and loads nothing from elsewhere.
#
# Starts the gateway (MDS_GATEWAY_BIN; its backends are not needed to render the page, so they
# point at a port nothing answers on) on a free port, loads /docs in headless Chromium with
# every host but 127.0.0.1 unresolvable, and checks the rendered DOM: the operations are listed
# and the deep-linked one is open with its Execute button (Try it out is on). Chromium's network
# log must show that every request the page made went to the gateway.
#
#   MDS_GATEWAY_BIN=.local/bin/mds-gateway tests/docs_page/docs_page_test.sh
# Needs chromium (./deploy/dev test installs it); installs nothing itself.
set -euo pipefail

gateway="${MDS_GATEWAY_BIN:-}"
[[ -n "$gateway" && -x "$gateway" ]] ||
  { echo "MDS_GATEWAY_BIN must name the built gateway (./deploy/dev test sets it)" >&2; exit 1; }
browser="$(command -v chromium || command -v chromium-browser || true)"
[[ -n "$browser" ]] ||
  { echo "chromium is not installed (Debian package chromium; ./deploy/dev test installs it)" >&2; exit 1; }

tmp="$(mktemp -d "${TEST_TMPDIR:-/tmp}/docs_page.XXXXXX")"
gateway_pid=""
cleanup() {
  if [[ -n "$gateway_pid" ]]; then
    kill "$gateway_pid" 2>/dev/null || true
    wait "$gateway_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# The gateway picks a free port (:0) and logs it: {...,"msg":"gateway listening",...,"addr":"127.0.0.1:N",...}
# (fields found by name, not by their order on the line)
GATEWAY_LISTEN=127.0.0.1:0 MDS_API_ADDR=127.0.0.1:1 MDS_CONSUMER_ADDR=127.0.0.1:1 \
  CORS_ALLOWED_ORIGINS= "$gateway" 2>"$tmp/gateway.log" &
gateway_pid=$!
addr=""
for _ in $(seq 100); do
  addr="$({ grep -F '"msg":"gateway listening"' "$tmp/gateway.log" || true; } |
    sed -n 's/.*"addr":"\(127\.0\.0\.1:[0-9]*\)".*/\1/p' | head -n1)"
  [[ -n "$addr" ]] && break
  kill -0 "$gateway_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z "$addr" ]]; then
  cat "$tmp/gateway.log" >&2
  echo "the gateway did not start" >&2
  exit 1
fi
origin="http://$addr"
page="$origin/docs#/PriceService/PriceService_GetLatestPrice"  # deep link: opens that operation

# Flags: no first-run, sync or update traffic of the browser's own; every host but the gateway's
# fails to resolve, as on a machine without internet access.
mkdir -p "$tmp/home"
status=0
HOME="$tmp/home" timeout 120 "$browser" --headless --no-sandbox --disable-gpu \
  --disable-background-networking --disable-component-update --disable-sync --no-first-run \
  --user-data-dir="$tmp/profile" --host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" \
  --log-net-log="$tmp/netlog.json" --virtual-time-budget=10000 \
  --dump-dom "$page" >"$tmp/dom.html" 2>"$tmp/chromium.log" || status=$?
if ((status != 0)) || [[ ! -s "$tmp/dom.html" ]]; then
  tail -n 30 "$tmp/chromium.log" >&2
  echo "chromium failed (exit status $status) or rendered nothing" >&2
  exit 1
fi

dom="$(cat "$tmp/dom.html")"
for path in /api/v1/prices/latest /api/v1/prices/poll '/api/v1/prices/poll/{job_id}' \
            /api/v1/prices/history /api/v1/prices/stream /api/v1/averages/latest /api/v1/providers; do
  [[ "$dom" == *"data-path=\"$path\""* ]] || fail "the page lists no operation $path"
done
[[ "$dom" == *'class="opblock '* ]] || fail "the page has no operation block (opblock)"
[[ "$dom" == *'Market Data Service REST API'* ]] || fail "the page lacks the API's title"
[[ "$dom" == *'btn execute'* ]] ||
  fail "the opened operation has no Execute button: Try it out is not on"
[[ "$dom" != *'Failed to load API definition'* ]] || fail "Swagger UI could not load /openapi.json"
if external="$(grep -o 'src="[a-z]*://[^"]*"' <<<"$dom" | grep -v "src=\"$origin/")"; then
  fail "the page refers to files elsewhere: $external"
fi

# Chromium writes one network event per line; a request the page made carries its origin as
# initiator. Every one must go to the gateway, and the page's own files must be among them.
requested="$(grep -F "\"initiator\":\"$origin\"" "$tmp/netlog.json" |
  sed -n 's/.*"url":"\([^"]*\)".*/\1/p' | sort -u || true)"
for want in "$origin/docs/swagger-ui-bundle.js" "$origin/docs/swagger-ui.css" "$origin/openapi.json"; do
  grep -qxF "$want" <<<"$requested" ||
    fail "the network log shows no request for $want (requests of the page: ${requested:-none})"
done
if elsewhere="$(grep -v "^$origin/" <<<"$requested")"; then
  fail "the page made requests away from the gateway: $elsewhere"
fi

if ((failures > 0)); then
  echo "--- rendered DOM (first 3000 bytes) ---" >&2
  head -c 3000 "$tmp/dom.html" >&2
  echo >&2
  exit 1
fi
echo "PASS: /docs renders $(grep -o 'class="opblock ' <<<"$dom" | wc -l) operations from $origin, nothing loaded from elsewhere"
