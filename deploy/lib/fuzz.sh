# Fuzzing for deploy/dev: libFuzzer targets (services/fuzz/*_fuzzer.cc) built with clang 14,
# AddressSanitizer and UndefinedBehaviorSanitizer outside Bazel, and schemathesis against the
# REST gateway of the dev stack.
#
# Layout under .local/fuzz/: build/gen (protoc output), build/obj (objects, rebuilt when a
# source or a header it includes changed), bin/<target>, corpus/<target> (what libFuzzer found,
# kept between runs; the seeds in services/fuzz/corpus/<target> are only read, through a copy in
# seeds/<target> without the crash-* reproducers), crashes/<target>
# (crash-*, timeout-*, oom-* inputs), logs/<target>.log.
# shellcheck shell=bash

FUZZ_DIR="$LOCAL_DIR/fuzz"
FUZZ_CXX="${FUZZ_CXX:-clang++-14}"
FUZZ_TARGETS=(alpha_vantage_reply_fuzzer finnhub_reply_fuzzer yfinance_reply_fuzzer
  price_event_fuzzer)
FUZZ_GEN="$FUZZ_DIR/build/gen"

# The project sources each target needs besides its own file (paths from the repository root;
# @gen/ is the generated protobuf code).
fuzz_sources() {
  local events=(services/events/price_event.cc services/domain/symbol.cc
    services/common/grpc/errors.cc @gen/proto/marketdata/v1/events.pb.cc)
  local provider_common=(services/fuzz/provider_fuzz.cc services/providers/provider_reply.cc
    services/providers/provider_outcome.cc
    services/providers/http_client.cc services/providers/fake_http_client.cc "${events[@]}")
  case "$1" in
    alpha_vantage_reply_fuzzer)
      echo "${provider_common[@]}" services/providers/alpha_vantage_provider.cc ;;
    finnhub_reply_fuzzer)
      echo "${provider_common[@]}" services/providers/finnhub_provider.cc ;;
    yfinance_reply_fuzzer)
      echo "${provider_common[@]}" services/providers/yfinance_provider.cc ;;
    price_event_fuzzer)
      echo "${events[@]}" ;;
    *) die "unknown fuzz target '$1' (${FUZZ_TARGETS[*]})" ;;
  esac
}

# Debian's libraries, as third_party/system.BUILD links them.
FUZZ_LIBS=(-lgrpc++ -lgrpc -lgpr -lprotobuf -lcurl
  -labsl_status -labsl_statusor -labsl_strings -labsl_str_format_internal -labsl_time
  -labsl_time_zone -labsl_synchronization -labsl_hash -labsl_city -labsl_low_level_hash
  -labsl_raw_hash_set -labsl_cord -labsl_cord_internal -labsl_cordz_functions
  -labsl_cordz_handle -labsl_cordz_info -labsl_int128 -labsl_strings_internal
  -labsl_throw_delegate -labsl_base -labsl_raw_logging_internal -labsl_spinlock_wait
  -labsl_log_severity -labsl_random_internal_pool_urbg -labsl_random_internal_randen
  -labsl_random_internal_randen_hwaes -labsl_random_internal_randen_hwaes_impl
  -labsl_random_internal_randen_slow -labsl_random_internal_platform
  -labsl_random_internal_seed_material -labsl_random_seed_gen_exception -lpthread)

FUZZ_CXXFLAGS=(-std=c++17 -g -O1 -fno-omit-frame-pointer
  -fno-sanitize-recover=undefined -I"$REPO_ROOT" -I"$FUZZ_GEN")

# fuzz_stale OBJ DEPFILE: true when OBJ is missing or older than anything in its depfile.
fuzz_stale() {
  local obj=$1 dep=$2 f
  [[ -f "$obj" && -f "$dep" ]] || return 0
  # The depfile is "obj: src hdr hdr \" lines.
  for f in $(sed -e 's/^[^:]*://' -e 's/\\$//' "$dep"); do
    [[ "$f" -nt "$obj" ]] && return 0
  done
  return 1
}

# fuzz_compile SRC [--fuzzer]: object for SRC in build/obj; prints its path.
fuzz_compile() {
  local src=$1 path obj
  if [[ "$src" == @gen/* ]]; then
    path="$FUZZ_GEN/${src#@gen/}"
  else
    path="$REPO_ROOT/$src"
  fi
  obj="$FUZZ_DIR/build/obj/${src#@}"
  obj="${obj%.cc}.o"
  mkdir -p "$(dirname "$obj")"
  if fuzz_stale "$obj" "${obj%.o}.d"; then
    info "compiling ${src#@} with $FUZZ_CXX" >&2
    nice -n 19 "$FUZZ_CXX" "${FUZZ_CXXFLAGS[@]}" -fsanitize=fuzzer-no-link,address,undefined \
      -MMD -MF "${obj%.o}.d" -c "$path" -o "$obj" >&2 || die "compiling $src failed"
  fi
  echo "$obj"
}

fuzz_generate_protos() {
  local stamp="$FUZZ_GEN/.stamp" f newer=0
  for f in "$REPO_ROOT"/proto/marketdata/v1/*.proto; do
    [[ -f "$stamp" && ! "$f" -nt "$stamp" ]] || newer=1
  done
  ((newer)) || return 0
  mkdir -p "$FUZZ_GEN"
  (cd "$REPO_ROOT" && /usr/bin/protoc -I. --cpp_out="$FUZZ_GEN" proto/marketdata/v1/*.proto) ||
    die "protoc failed"
  touch "$stamp"
}

# fuzz_build [target...]: builds the given targets (default all) into .local/fuzz/bin.
fuzz_build() {
  local targets=("$@") target objs src bin
  ((${#targets[@]})) || targets=("${FUZZ_TARGETS[@]}")
  command -v "$FUZZ_CXX" >/dev/null || die "$FUZZ_CXX not found (install_fuzz_tools)"
  fuzz_generate_protos
  mkdir -p "$FUZZ_DIR/bin"
  for target in "${targets[@]}"; do
    objs=()
    for src in "services/fuzz/$target.cc" $(fuzz_sources "$target"); do
      objs+=("$(fuzz_compile "$src")")
    done
    bin="$FUZZ_DIR/bin/$target"
    local relink=0 o
    [[ -x "$bin" ]] || relink=1
    for o in "${objs[@]}"; do [[ "$o" -nt "$bin" ]] && relink=1; done
    if ((relink)); then
      info "linking $target" >&2
      nice -n 19 "$FUZZ_CXX" -fsanitize=fuzzer,address,undefined "${objs[@]}" \
        "${FUZZ_LIBS[@]}" -o "$bin" || die "linking $target failed"
    fi
  done
}

# fuzz_run SECONDS [target...]: runs each target (default all), one after the other, for SECONDS
# under nice -n 19, and prints what each did. libFuzzer runs in fork mode with -ignore_crashes,
# so a crash does not end the run: every crash input is kept in .local/fuzz/crashes/<target>/
# and the distinct failure messages are listed. Exits non-zero when any target crashed.
fuzz_run() {
  local seconds=$1; shift
  local targets=("$@") target
  ((${#targets[@]})) || targets=("${FUZZ_TARGETS[@]}")
  mkdir -p "$FUZZ_DIR/logs"
  local summary=() failed=0
  for target in "${targets[@]}"; do
    local bin="$FUZZ_DIR/bin/$target" work="$FUZZ_DIR/corpus/$target"
    local crashes="$FUZZ_DIR/crashes/$target" log="$FUZZ_DIR/logs/$target.log"
    # The seeds, less the crash-* reproducers of known bugs (bazel test runs those): fork mode
    # would report them as new crashes at every start.
    local seeds="$FUZZ_DIR/seeds/$target" f
    rm -rf "$seeds"
    mkdir -p "$work" "$crashes" "$seeds"
    for f in "$REPO_ROOT/services/fuzz/corpus/$target"/*; do
      [[ -f "$f" && "$(basename "$f")" != crash-* ]] && cp "$f" "$seeds/"
    done
    local dict=() before
    case "$target" in
      *_reply_fuzzer) dict=(-dict="$REPO_ROOT/services/fuzz/provider_reply.dict") ;;
      price_event_fuzzer) dict=(-dict="$REPO_ROOT/services/fuzz/price_event.dict") ;;
    esac
    before="$(find "$crashes" -type f | wc -l)"
    info "fuzzing $target for ${seconds}s (log: ${log#"$REPO_ROOT"/})"
    # -fork=1: one child at a time (the machine has 2 cores); new coverage is merged into $work.
    # -rss_limit_mb: a reply or record is small; more means a leak or a blow-up.
    (cd "$FUZZ_DIR" && nice -n 19 "$bin" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 \
        -ignore_ooms=1 -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len=8192 -print_funcs=0 -artifact_prefix="$crashes/" "${dict[@]}" \
        "$work" "$seeds") >"$log" 2>&1 || true
    local last runs cov total found errors inited
    last="$(grep -E '^#[0-9]+: cov:' "$log" | tail -n 1 || true)"
    runs="$(sed -nE 's/^#([0-9]+):.*/\1/p' <<<"$last")"
    # Coverage of the final corpus, measured by merging it into an empty folder (fork mode's
    # own cov figure is the parent's running tally; a merge also survives inputs that fail the
    # checks, such as a corpus kept from a build with fewer checks): covered edges of the
    # instrumented code, out of all.
    local mdir
    mdir="$(mktemp -d)"
    mkdir -p "$mdir/merged"
    inited="$(cd "$FUZZ_DIR" && nice -n 19 "$bin" -merge=1 -timeout=10 -rss_limit_mb=2048 \
      -max_len=8192 -artifact_prefix="$mdir/" "$mdir/merged" "$work" "$seeds" 2>&1 |
      tee "$FUZZ_DIR/logs/$target.coverage.log" |
      grep -E 'MERGE-OUTER: [0-9]+ new files|inline 8-bit counters' || true)"
    rm -rf "$mdir"
    cov="$(sed -nE 's/.*MERGE-OUTER: ([0-9]+) new files with ([0-9]+) new features added; ([0-9]+) new coverage edges.*/\3 (features \2, corpus \1 inputs)/p' \
      <<<"$inited")"
    total="$(sed -nE 's/.*\(([0-9]+) inline 8-bit counters\).*/\1/p' <<<"$inited" | head -n 1)"
    [[ -n "$cov" && -n "$total" ]] && cov="${cov%% *} of $total edges ${cov#* }"
    found=$(($(find "$crashes" -type f | wc -l) - before))
    # Fork mode repeats the ERROR / runtime error lines of every crashing job.
    # (-o: the parent's NEW_FUNC lines can share a line with them.)
    errors="$(grep -oE 'ERROR:.*|runtime error:.*' "$log" | grep -v 'deadly signal' |
      sed -E 's/0x[0-9a-f]+/0x.../g' | sort | uniq -c | sort -rn || true)"
    summary+=("$(printf '%-28s runs %-10s crash inputs %-4s cov %s' "$target" \
      "${runs:-?}" "$found" "${cov:-?}")")
    if ((found > 0)); then
      failed=1
      summary+=("    distinct failures (count, message):")
      [[ -n "$errors" ]] || errors="(none printed: a seed input failed; run it to see why)"
      while IFS= read -r line; do [[ -n "$line" ]] && summary+=("      $line"); done <<<"$errors"
      summary+=("    inputs: ${crashes#"$REPO_ROOT"/}/")
    fi
  done
  echo
  echo "Fuzzing summary (${seconds}s per target):"
  printf '  %s\n' "${summary[@]}"
  ((failed == 0)) || warn "crashes found: reproduce with .local/fuzz/bin/<target> <input>;" \
    "minimise with .local/fuzz/bin/<target> -minimize_crash=1 -runs=100000 <input>"
  return "$failed"
}

# Schemathesis against the dev stack's gateway: every operation of the OpenAPI document but the
# two NDJSON streams, in all four phases (examples, coverage, fuzzing, stateful), valid and
# invalid inputs, with random headers added by services/fuzz/schemathesis_hooks.py, and every
# check schemathesis has (--checks all): no 5xx, statuses, content types, headers and bodies as
# the document says, valid data accepted and invalid data refused, 405 with Allow for a method
# the path lacks. One check is left out: use_after_free wants a 404 for a resource after its
# DELETE, but DELETE /api/v1/prices/poll/{job_id} stops a job and keeps it (status "stopped",
# readable with GET): the REST contract the service keeps for its existing clients. One worker:
# with two, CPython 3.11's parser (Hypothesis describing its strategies in threads) fails now
# and then with "AST constructor recursion depth mismatch", an error of the tool, not the API.
# Output in .local/fuzz/schemathesis/: JUnit and NDJSON
# reports, requests.json (what was sent, by status and operation) and server-errors.jsonl
# (every 5xx, whole).
SCHEMATHESIS_BASE_URL="${SCHEMATHESIS_BASE_URL:-http://127.0.0.1:8000}"

# schemathesis_run [--keys] [examples]: examples per operation (default 1200: about 11,000
# requests in the fuzzing phase over the 9 operations, more with the other phases).
# --keys: the dev stack runs with REQUIRE_API_KEYS=true (in .env, then ./deploy/dev restart);
# a key with every scope and no request quota is created for the run and sent as
# `Authorization: Bearer <key>`, then revoked.
schemathesis_run() {
  local keys=0
  if [[ "${1:-}" == --keys ]]; then
    keys=1
    shift
  fi
  local examples="${1:-1200}" url="$SCHEMATHESIS_BASE_URL" out="$FUZZ_DIR/schemathesis"
  curl -fsS -o /dev/null "$url/openapi.json" ||
    die "no gateway at $url: start the dev stack with ./deploy/dev up first"
  local auth=() key="" key_name=""
  if ((keys)); then
    local probe
    probe="$(curl -sS -o /dev/null -w '%{http_code}' "$url/api/v1/providers")"
    [[ "$probe" == 401 ]] ||
      die "the dev stack does not require API keys (GET /api/v1/providers: $probe):" \
        "set REQUIRE_API_KEYS=true in .env and run ./deploy/dev restart"
    key_name="schemathesis-$(date -u +%Y%m%d%H%M%S)"
    key="$(cmd_keys create "$key_name" --scopes read,write,admin --requests-per-minute 0 |
      tail -n 1)"
    [[ "$key" =~ ^[A-Za-z0-9_.-]{16,}$ ]] || die "could not create an API key for the run"
    auth=(--header "Authorization: Bearer $key")
    out="$FUZZ_DIR/schemathesis-keys"
  fi
  rm -rf "$out"
  mkdir -p "$out"
  info "schemathesis against $url/openapi.json ($examples examples per operation;" \
    "API keys $( ((keys)) && echo on || echo off); output in ${out#"$REPO_ROOT"/})"
  local rc=0
  (cd "$out" &&
    PYTHONPATH="$REPO_ROOT/services/fuzz" SCHEMATHESIS_HOOKS=schemathesis_hooks \
    MDS_SCHEMATHESIS_OUT="$out" SCHEMATHESIS_BASE_URL="$url" MDS_SCHEMATHESIS_KEY="$key" \
    nice -n 10 "$FUZZ_VENV/bin/schemathesis" run "$url/openapi.json" \
      --url "$url" \
      --checks all \
      --exclude-checks use_after_free \
      "${auth[@]}" \
      --phases examples,coverage,fuzzing,stateful \
      --mode all \
      --max-examples "$examples" \
      --exclude-path-regex '/stream$' \
      --continue-on-failure \
      --seed 20260101 \
      --workers 1 \
      --request-timeout 60 \
      --generation-database none \
      --report junit,ndjson --report-dir "$out" \
      --no-color) || rc=$?
  if ((keys)); then
    cmd_keys revoke "$key_name" >/dev/null || warn "could not revoke the run's API key $key_name"
  fi
  if [[ -f "$out/requests.json" ]]; then
    "$FUZZ_VENV/bin/python" - "$out" <<'PY'
import json, sys
out = sys.argv[1]
c = json.load(open(f"{out}/requests.json"))
print(f"requests sent: {c['requests']} ({c['with_extra_headers']} with extra headers), "
      f"responses >= 500: {c['server_errors']}, "
      f"polling jobs created and deleted: {c['jobs_deleted']}")
print("by status: " + ", ".join(f"{k}: {v}" for k, v in sorted(c["by_status"].items())))
for op, n in sorted(c["by_operation"].items()):
    print(f"  {op}: {n}")
PY
  fi
  return "$rc"
}
