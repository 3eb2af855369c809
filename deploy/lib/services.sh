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

# Every KEY=value of .env, exported.
load_dotenv() {
  local key value
  while IFS=$'\t' read -r key value; do
    export "$key=$value"
  done < <(dotenv_pairs)
}

# The environment the dev services run with: the stack's addresses, then .env on top. The
# gateway reaches mds-api and mds-consumer where they listen, unless .env says otherwise.
# The default ports are below the kernel's ephemeral range (see stack_select).
service_env() {
  export DATABASE_URL="$DATABASE_URL_STACK"
  export KAFKA_BOOTSTRAP_SERVERS="$KAFKA_BOOTSTRAP_STACK"
  export MDS_API_LISTEN="0.0.0.0:15051"
  export MDS_CONSUMER_LISTEN="0.0.0.0:15052"
  export GATEWAY_LISTEN=":8000"
  unset MDS_API_ADDR MDS_CONSUMER_ADDR
  load_dotenv
  export MDS_API_ADDR="${MDS_API_ADDR-$(client_addr "$MDS_API_LISTEN")}"
  if [[ -n "${CONSUMER_BIN:-}" ]] || service_running consumer; then
    export MDS_CONSUMER_ADDR="${MDS_CONSUMER_ADDR-$(client_addr "$MDS_CONSUMER_LISTEN")}"
  else
    export MDS_CONSUMER_ADDR="${MDS_CONSUMER_ADDR-}"
  fi
}

# Each service runs under a supervisor (supervise.sh) that starts it again should it die. Two
# pid files: the supervisor's, and the service's own, which the supervisor rewrites at every
# start. The supervisor leads a session of its own; the service gets SIGTERM when the
# supervisor dies, so neither outlives the other.
svc_supervisor_pidfile() { printf '%s/%s.supervisor.pid' "$RUN_DIR" "$1"; }
svc_pidfile() { printf '%s/%s.service.pid' "$RUN_DIR" "$1"; }
# Where older versions of these scripts kept the supervisor's pid, and how they told it apart.
svc_legacy_pidfile() { printf '%s/%s.pid' "$RUN_DIR" "$1"; }
svc_pattern() {
  case "$1" in
    api) printf 'mds-api' ;;
    consumer) printf 'mds-consumer' ;;
    gateway) printf '%s' "$GATEWAY_BIN" ;;
  esac
}
svc_log() { printf '%s/%s.log' "$LOG_DIR" "$1"; }
service_running() { pid_alive "$(svc_supervisor_pidfile "$1")"; }

# service_starting NAME LOG-OFFSET: its supervisor runs, and has not had to start it again
# since the log had LOG-OFFSET bytes (a service that dies while starting fails the start).
service_starting() {
  service_running "$1" || return 1
  ! tail -c +"$(($2 + 1))" "$(svc_log "$1")" 2>/dev/null | grep -q '^=== .* exited with status'
}

grpc_serving() {
  "$LOCAL_BIN/grpcurl" -plaintext -max-time 2 "$1" grpc.health.v1.Health/Check 2>/dev/null | grep -q '"SERVING"'
}
http_ok() { curl -fsS -o /dev/null --max-time 2 "$1"; }

# Seconds a service may take to answer its readiness check (MDS_DEV_START_TIMEOUT).
SERVICE_START_TIMEOUT="${MDS_DEV_START_TIMEOUT:-60}"

# start_service NAME BINARY ADDRESS SETTING READY-CHECK...: ADDRESS is where it will listen
# (from SETTING, named when that address is taken).
start_service() {
  local name="$1" bin="$2" addr="$3" setting="$4"; shift 4
  local sup logfile offset
  sup="$(svc_supervisor_pidfile "$name")" logfile="$(svc_log "$name")"
  if service_running "$name"; then
    ok "$name already running ($(service_pids "$name"))"
    # /proc/<pid> carries the process's start time.
    if pid_alive "$(svc_pidfile "$name")" && [[ "$bin" -nt "/proc/$(pid_of "$(svc_pidfile "$name")")" ]]; then
      warn "$name was rebuilt since it started; ./deploy/dev restart runs the new build"
    fi
    return 0
  fi
  # What a dead supervisor, or an older version of this script, may have left running.
  stop_service "$name"
  port_listening "${addr##*:}" && die_port_taken "$name" "${addr##*:}" "$setting"
  info "starting $name"
  offset="$(stat -c %s "$logfile" 2>/dev/null || echo 0)"
  (cd "$REPO_ROOT" &&
     start_detached "$sup" "$logfile" "$REPO_ROOT/deploy/lib/supervise.sh" "$(svc_pidfile "$name")" "$bin")
  UP_STARTED+=("$name")
  wait_until "$name" "$SERVICE_START_TIMEOUT" "$logfile" "service_starting $name $offset" "$@"
  ok "$name ready ($(service_pids "$name"))"
  # A start that upgraded the database's schema says so (the services log each migration).
  local migration
  while read -r migration; do
    [[ -n "$migration" ]] && info "$name upgraded the database: migration $migration applied"
  done < <(tail -c +"$((offset + 1))" "$logfile" 2>/dev/null |
             grep -o 'applied migration [0-9A-Za-z_]*' | cut -d' ' -f3)
}

start_services() {
  service_env
  local api consumer gateway
  api="$(client_addr "$MDS_API_LISTEN")"
  consumer="$(client_addr "$MDS_CONSUMER_LISTEN")"
  gateway="$(client_addr "$GATEWAY_LISTEN")"
  STARTED_API='' STARTED_CONSUMER='' STARTED_GATEWAY=''
  if [[ -n "${API_BIN:-}" ]]; then
    start_service api "$API_BIN" "$api" MDS_API_LISTEN grpc_serving "$api"
    STARTED_API="$api"
  fi
  if [[ -n "${CONSUMER_BIN:-}" ]]; then
    start_service consumer "$CONSUMER_BIN" "$consumer" MDS_CONSUMER_LISTEN grpc_serving "$consumer"
    STARTED_CONSUMER="$consumer"
  fi
  if [[ -x "$GATEWAY_BIN" ]]; then
    if [[ -n "$STARTED_API" ]]; then
      start_service gateway "$GATEWAY_BIN" "$gateway" GATEWAY_LISTEN http_ok "http://$gateway/ready"
    else
      # /ready checks the backends, which are not running; liveness is all that can be shown.
      start_service gateway "$GATEWAY_BIN" "$gateway" GATEWAY_LISTEN http_ok "http://$gateway/health"
    fi
    STARTED_GATEWAY="$gateway"
  fi
}

# stop_service NAME [TIMEOUT]: SIGTERM to the supervisor, which passes it on and ends with the
# service (or to the service itself when its supervisor is gone); SIGKILL to both after TIMEOUT
# seconds.
stop_service() {
  local name="$1" timeout="${2:-30}" sup svc spid='' cpid='' i
  sup="$(svc_supervisor_pidfile "$name")" svc="$(svc_pidfile "$name")"
  stop_pid "$name" "$(svc_legacy_pidfile "$name")" "$(svc_pattern "$name")" "$timeout"
  pid_alive "$sup" && spid="$(pid_of "$sup")"
  pid_alive "$svc" && cpid="$(pid_of "$svc")"
  [[ -n "$spid$cpid" ]] || return 0
  info "stopping $name (${cpid:+pid $cpid}${spid:+${cpid:+, }supervisor $spid})"
  kill -TERM "${spid:-$cpid}" 2>/dev/null || true
  for ((i = 0; i < timeout * 5; i++)); do
    if ! pid_alive "$sup" && ! pid_alive "$svc"; then
      ok "$name stopped"
      return 0
    fi
    sleep 0.2
  done
  warn "$name did not exit within ${timeout}s; killing it"
  # The supervisor leads its process group: the service is in it too.
  pid_alive "$sup" && kill -KILL -- "-$spid" 2>/dev/null
  pid_alive "$svc" && kill -KILL "$cpid" 2>/dev/null
  for ((i = 0; i < 50; i++)); do
    if ! pid_alive "$sup" && ! pid_alive "$svc"; then return 0; fi
    sleep 0.1
  done
  warn "$name is still there after SIGKILL"
}

stop_services() {
  local name
  for name in gateway consumer api; do
    stop_service "$name" 30
  done
}

# service_pids NAME: "pid N, supervisor M" as far as they run.
service_pids() {
  local name="$1" sup svc out=''
  sup="$(svc_supervisor_pidfile "$name")" svc="$(svc_pidfile "$name")"
  if pid_alive "$svc"; then out="pid $(pid_of "$svc")"; else out="restarting"; fi
  if pid_alive "$sup"; then
    out+=", supervisor $(pid_of "$sup")"
  elif pid_alive "$svc"; then
    out+=", no supervisor"
  fi
  printf '%s\n' "$out"
}

services_status() {
  local name
  for name in api consumer gateway; do
    if service_running "$name" || pid_alive "$(svc_pidfile "$name")"; then
      printf '  %-12s running  %s\n' "$name" "$(service_pids "$name")"
    else
      printf '  %-12s stopped\n' "$name"
    fi
  done
}
