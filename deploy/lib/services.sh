# Builds and runs the project's own processes: mds-api and mds-consumer (C++, Bazel) and the REST
# gateway (Go). Only the dev stack runs them; tests start their own.
# shellcheck shell=bash

API_TARGET="//services/api:mds-api"
CONSUMER_TARGET="//services/consumer:mds-consumer"
GATEWAY_BIN="$LOCAL_BIN/mds-gateway"

# Bazel runs with the caller's PATH: a different PATH would change every action's environment
# and force a rebuild of everything between runs of this script and builds by hand.
bazel_() { (cd "$REPO_ROOT" && PATH="$CALLER_PATH" bazel "$@"); }

# target_exists //pkg:name: the package has a BUILD file and Bazel knows the target.
target_exists() {
  local pkg="${1#//}"; pkg="${pkg%%:*}"
  [[ -f "$REPO_ROOT/$pkg/BUILD.bazel" || -f "$REPO_ROOT/$pkg/BUILD" ]] || return 1
  bazel_ query "$1" >/dev/null 2>&1
}

# build_services: sets API_BIN / CONSUMER_BIN to the built binaries, or '' when the target does
# not exist yet. A target that exists and fails to build is an error.
build_services() {
  local targets=()
  API_BIN='' CONSUMER_BIN=''
  if target_exists "$API_TARGET"; then targets+=("$API_TARGET"); else warn "$API_TARGET does not exist; mds-api will not run"; fi
  if target_exists "$CONSUMER_TARGET"; then targets+=("$CONSUMER_TARGET"); else warn "$CONSUMER_TARGET does not exist; mds-consumer will not run"; fi
  if ((${#targets[@]})); then
    info "bazel build ${targets[*]}"
    bazel_ build --jobs=2 --local_cpu_resources=2 "${targets[@]}" || die "bazel build failed"
    local bin_dir
    bin_dir="$(bazel_ info bazel-bin 2>/dev/null)"
    [[ " ${targets[*]} " == *" $API_TARGET "* ]] && API_BIN="$bin_dir/services/api/mds-api"
    [[ " ${targets[*]} " == *" $CONSUMER_TARGET "* ]] && CONSUMER_BIN="$bin_dir/services/consumer/mds-consumer"
  fi
  build_gateway
}

build_gateway() {
  if [[ ! -f "$REPO_ROOT/gateway/go.mod" || ! -d "$REPO_ROOT/gateway/cmd/gateway" ]]; then
    warn "gateway/cmd/gateway does not exist; the REST gateway will not run"
    rm -f "$GATEWAY_BIN"
    return 0
  fi
  info "go build gateway -> ${GATEWAY_BIN#"$REPO_ROOT"/}"
  mkdir -p "$LOCAL_BIN"
  (cd "$REPO_ROOT/gateway" && go build -buildvcs=false -o "$GATEWAY_BIN" ./cmd/gateway) ||
    die "gateway build failed"
}

# Settings from a .env file in the repo root (KEY=value lines, '#' comments, optional quotes and
# `export `), applied over the stack's defaults. Not evaluated by the shell.
load_dotenv() {
  local file="$REPO_ROOT/.env" line key value
  [[ -f "$file" ]] || return 0
  while IFS= read -r line || [[ -n "$line" ]]; do
    line="${line#"${line%%[![:space:]]*}"}"
    [[ -z "$line" || "$line" == \#* ]] && continue
    line="${line#export }"
    [[ "$line" == *=* ]] || continue
    key="${line%%=*}" value="${line#*=}"
    key="${key%"${key##*[![:space:]]}"}"
    value="${value#"${value%%[![:space:]]*}"}"
    [[ "$key" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || { warn ".env: ignoring line for '$key'"; continue; }
    if [[ "$value" =~ ^\"(.*)\"[[:space:]]*$ || "$value" =~ ^\'(.*)\'[[:space:]]*$ ]]; then
      value="${BASH_REMATCH[1]}"
    else
      value="${value%%[[:space:]]#*}"
      value="${value%"${value##*[![:space:]]}"}"
    fi
    export "$key=$value"
  done <"$file"
}

# The environment the dev services run with: the stack's addresses, then .env on top.
service_env() {
  export DATABASE_URL="$DATABASE_URL_STACK"
  export KAFKA_BOOTSTRAP_SERVERS="$KAFKA_BOOTSTRAP_STACK"
  export MDS_API_LISTEN="0.0.0.0:50051"
  export MDS_CONSUMER_LISTEN="0.0.0.0:50052"
  export GATEWAY_LISTEN=":8000"
  export MDS_API_ADDR="127.0.0.1:50051"
  if [[ -n "${CONSUMER_BIN:-}" ]] || service_running consumer; then
    export MDS_CONSUMER_ADDR="127.0.0.1:50052"
  else
    export MDS_CONSUMER_ADDR=""
  fi
  load_dotenv
}

svc_pid() { printf '%s/%s.pid' "$RUN_DIR" "$1"; }
svc_log() { printf '%s/%s.log' "$LOG_DIR" "$1"; }
# A process is recognised by its binary's path.
svc_pattern() {
  case "$1" in
    api) printf 'mds-api' ;;
    consumer) printf 'mds-consumer' ;;
    gateway) printf '%s' "$GATEWAY_BIN" ;;
  esac
}
service_running() { pid_alive "$(svc_pid "$1")" "$(svc_pattern "$1")"; }

grpc_serving() {
  "$LOCAL_BIN/grpcurl" -plaintext -max-time 2 "$1" grpc.health.v1.Health/Check 2>/dev/null | grep -q '"SERVING"'
}
http_ok() { curl -fsS -o /dev/null --max-time 2 "$1"; }

# start_service NAME BINARY READY-CHECK...
start_service() {
  local name="$1" bin="$2"; shift 2
  local pidfile logfile
  pidfile="$(svc_pid "$name")" logfile="$(svc_log "$name")"
  if service_running "$name"; then
    ok "$name already running (pid $(pid_of "$pidfile"))"
    # /proc/<pid> carries the process's start time.
    [[ "$bin" -nt "/proc/$(pid_of "$pidfile")" ]] &&
      warn "$name was rebuilt since it started; ./deploy/dev restart runs the new build"
    return 0
  fi
  "$@" >/dev/null 2>&1 && die "$name: its address already answers, but not from a process this script started"
  info "starting $name"
  # Under a supervisor that starts it again should it die (see supervise.sh).
  (cd "$REPO_ROOT" && start_detached "$pidfile" "$logfile" "$REPO_ROOT/deploy/lib/supervise.sh" "$bin")
  wait_until "$name" 60 "$logfile" "$pidfile" "$(svc_pattern "$name")" "$@"
  ok "$name ready (pid $(pid_of "$pidfile"))"
}

start_services() {
  service_env
  local api consumer gateway
  api="$(client_addr "$MDS_API_LISTEN")"
  consumer="$(client_addr "$MDS_CONSUMER_LISTEN")"
  gateway="$(client_addr "$GATEWAY_LISTEN")"
  STARTED_API='' STARTED_CONSUMER='' STARTED_GATEWAY=''
  if [[ -n "${API_BIN:-}" ]]; then
    start_service api "$API_BIN" grpc_serving "$api"; STARTED_API="$api"
  fi
  if [[ -n "${CONSUMER_BIN:-}" ]]; then
    start_service consumer "$CONSUMER_BIN" grpc_serving "$consumer"; STARTED_CONSUMER="$consumer"
  fi
  if [[ -x "$GATEWAY_BIN" ]]; then
    if [[ -n "$STARTED_API" ]]; then
      start_service gateway "$GATEWAY_BIN" http_ok "http://$gateway/ready"
    else
      # /ready checks the backends, which are not running; liveness is all that can be shown.
      start_service gateway "$GATEWAY_BIN" http_ok "http://$gateway/health"
    fi
    STARTED_GATEWAY="$gateway"
  fi
}

stop_services() {
  local name
  for name in gateway consumer api; do
    stop_pid "$name" "$(svc_pid "$name")" "$(svc_pattern "$name")" 30
  done
}

services_status() {
  local name
  for name in api consumer gateway; do
    if service_running "$name"; then
      printf '  %-12s running  pid %s\n' "$name" "$(pid_of "$(svc_pid "$name")")"
    else
      printf '  %-12s stopped\n' "$name"
    fi
  done
}
