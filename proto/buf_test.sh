#!/usr/bin/env bash
# Guards the public API (proto/marketdata) the way gRPC APIs are guarded, with buf
# (proto/buf.yaml, used from the repository root):
#   1. `buf lint` passes;
#   2. `buf breaking` finds nothing against the newest release snapshot, proto/releases/vX.Y.Z
#      (the sources of that release, a buf module of its own);
#   3. the checks bite: on copies with a field removed, renumbered or renamed, `buf breaking`
#      fails, and on a copy with a badly named message `buf lint` fails.
# Run by `bazel test //proto:buf_test`, or by hand from anywhere: proto/buf_test.sh.
#
# buf: $MDS_BUF_BIN, else <repo>/.local/bin/buf, else buf on PATH. `./deploy/dev test` (and
# `./deploy/dev install`) install the pinned version into .local/bin.
set -euo pipefail

if [[ -n "${TEST_SRCDIR:-}" ]]; then
  src="$TEST_SRCDIR/${TEST_WORKSPACE:-marketdata}"
  # The runfiles are symlinks into the source tree, whose root holds .local/bin.
  repo_root="$(cd "$(dirname "$(readlink -f "$src/proto/buf_test.sh")")/.." && pwd)"
  tmp_root="$TEST_TMPDIR"
else
  src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  repo_root="$src"
  tmp_root="$(mktemp -d)"
  trap 'rm -rf "$tmp_root"' EXIT
fi

buf="${MDS_BUF_BIN:-}"
if [[ -z "$buf" && -x "$repo_root/.local/bin/buf" ]]; then
  buf="$repo_root/.local/bin/buf"
fi
if [[ -z "$buf" ]]; then
  buf="$(command -v buf 2>/dev/null || true)"
fi
if [[ -z "$buf" || ! -x "$buf" ]]; then
  echo "FAIL: buf not found (looked at \$MDS_BUF_BIN, $repo_root/.local/bin/buf and PATH);" \
    "./deploy/dev test installs it (or ./deploy/dev install)" >&2
  exit 1
fi
echo "buf $("$buf" --version) ($buf)"

# buf keeps a cache; inside the test it goes to the test's own folder. Nothing is fetched: the
# module has no deps.
export BUF_CACHE_DIR="$tmp_root/buf-cache"

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# A plain copy of what buf reads (its config, the API, the snapshots); runfiles are symlinks.
ws="$tmp_root/ws"
rm -rf "$ws"
mkdir -p "$ws/proto"
cp -L "$src/proto/buf.yaml" "$ws/proto/"
cp -RL "$src/proto/marketdata" "$src/proto/releases" "$ws/proto/"
config=(--config proto/buf.yaml)

newest="$(cd "$ws/proto/releases" && ls -d v*/ | tr -d / | sort -V | tail -n 1)"
[[ -n "$newest" ]] || { echo "FAIL: no release snapshot in proto/releases" >&2; exit 1; }
against="proto/releases/$newest"
echo "newest release: $newest"

echo "== buf lint"
(cd "$ws" && "$buf" lint "${config[@]}") ||
  fail "buf lint (fix the protos, or see proto/buf.yaml for the rules kept)"

echo "== buf breaking --against $against"
(cd "$ws" && "$buf" breaking "${config[@]}" --against "$against") ||
  fail "breaking changes against $newest: keep the API compatible, or release a new major package"

# mutate NAME FILE SED_EXPR: a copy of the workspace whose proto/marketdata/v1/FILE is changed by
# SED_EXPR, which must change it; prints the copy's folder.
mutate() {
  local name=$1 file=$2 expr=$3 copy="$tmp_root/mutant-$1"
  rm -rf "$copy"
  cp -R "$ws" "$copy"
  sed -i "$expr" "$copy/proto/marketdata/v1/$file"
  if cmp -s "$ws/proto/marketdata/v1/$file" "$copy/proto/marketdata/v1/$file"; then
    echo "FAIL: the mutation $name changed nothing in $file; adjust it to the current protos" >&2
    exit 1
  fi
  echo "$copy"
}

# expect_breaking NAME FILE SED_EXPR RULE: buf breaking must fail on the mutant, by RULE.
expect_breaking() {
  local name=$1 rule=$4 copy out rc=0
  copy="$(mutate "$1" "$2" "$3")"
  echo "== buf breaking must fail: $name"
  out="$(cd "$copy" &&
    "$buf" breaking "${config[@]}" --against "$against" --error-format=json 2>&1)" || rc=$?
  echo "$out"
  if ((rc == 0)); then
    fail "buf breaking accepted $name"
  elif ! grep -q "\"type\":\"$rule\"" <<<"$out"; then
    fail "buf breaking rejected $name, but not by $rule"
  fi
}

# Price.provider (4) removed: clients reading it get nothing, old JSON bodies carry an unknown key.
expect_breaking field_removed price.proto '/^message Price {/,/^}/{/string provider = 4;/d}' \
  FIELD_NO_DELETE
# Price.price renumbered 2 -> 6: the binary wire form changes under the same name.
expect_breaking field_renumbered price.proto \
  '/^message Price {/,/^}/s/double price = 2;/double price = 6;/' FIELD_NO_DELETE
# Price.symbol renamed to ticker, same number: binary-compatible, but the JSON key "symbol" of
# the REST responses changes, which WIRE_JSON (contained in FILE) forbids.
expect_breaking field_json_renamed price.proto \
  '/^message Price {/,/^}/s/string symbol = 1;/string ticker = 1;/' FIELD_SAME_JSON_NAME

echo "== buf lint must fail: a message named against the style"
copy="$(mutate lint_bad_name price.proto '$a\
message bad_message_name {}')"
rc=0
out="$(cd "$copy" && "$buf" lint "${config[@]}" 2>&1)" || rc=$?
echo "$out"
if ((rc == 0)) || ! grep -q bad_message_name <<<"$out"; then
  fail "buf lint accepted a message named bad_message_name"
fi

if ((failures)); then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all checks passed"
