# Shared helpers for deploy/dev: paths, the two stack layouts, messages, pid files, bounded waits.
# shellcheck shell=bash

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"
LOCAL_DIR="$REPO_ROOT/.local"
LOCAL_BIN="$LOCAL_DIR/bin"
PG_BIN_DIR="${PG_BIN_DIR:-/usr/lib/postgresql/15/bin}"
# The caller's PATH, before install.sh puts a Go toolchain in front: Bazel's actions see PATH, so
# builds by these scripts and by hand share one cache only if Bazel always gets the same one.
CALLER_PATH="$PATH"

# shellcheck source=../versions.env
. "$REPO_ROOT/deploy/versions.env"

# Colours only when talking to a terminal.
if [[ -t 2 ]]; then
  _c_info=$'\e[1;34m' _c_ok=$'\e[1;32m' _c_warn=$'\e[1;33m' _c_err=$'\e[1;31m' _c_off=$'\e[0m'
else
  _c_info='' _c_ok='' _c_warn='' _c_err='' _c_off=''
fi
info() { printf '%s==>%s %s\n' "$_c_info" "$_c_off" "$*" >&2; }
ok()   { printf '%s ok%s %s\n' "$_c_ok" "$_c_off" "$*" >&2; }
warn() { printf '%swarning:%s %s\n' "$_c_warn" "$_c_off" "$*" >&2; }
die()  { printf '%serror:%s %s\n' "$_c_err" "$_c_off" "$*" >&2; exit 1; }

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# stack_select dev|test|faults: sets every name and port of one stack, so they can run side by
# side (faults: the fault-injection suite, whose PostgreSQL and broker it kills and restarts).
#   STACK_DIR   repo-local state of the stack (logs, pid files, Kafka data)
#   PG_STATE    PostgreSQL data and socket; outside the clone because the clone may sit in a
#               folder (e.g. /root) that the postgres system user cannot enter
stack_select() {
  STACK="$1"
  case "$STACK" in
    dev)  PG_PORT=55432; KAFKA_PORT=9092;  KAFKA_CONTROLLER_PORT=9093 ;;
    test) PG_PORT=55433; KAFKA_PORT=19092; KAFKA_CONTROLLER_PORT=19093 ;;
    faults) PG_PORT=55434; KAFKA_PORT=29092; KAFKA_CONTROLLER_PORT=29093 ;;
    *) die "unknown stack '$STACK'" ;;
  esac
  STACK_DIR="$LOCAL_DIR/$STACK"
  LOG_DIR="$STACK_DIR/logs"
  RUN_DIR="$STACK_DIR/run"
  if is_root; then
    PG_STATE="${MDS_STATE_ROOT:-/var/tmp/marketdata}/$STACK"
  else
    PG_STATE="${MDS_STATE_ROOT:-/var/tmp/marketdata-$(id -un)}/$STACK"
  fi
  PG_DATA="$PG_STATE/pgdata"
  PG_SOCKET_DIR="$PG_STATE/run"
  PG_LOG="$PG_STATE/postgres.log"
  KAFKA_DIR="$STACK_DIR/kafka"
  KAFKA_LOG="$LOG_DIR/kafka.log"
  KAFKA_PID="$RUN_DIR/kafka.pid"
  DATABASE_URL_STACK="postgresql://mds:mds@127.0.0.1:$PG_PORT/marketdata"
  KAFKA_BOOTSTRAP_STACK="127.0.0.1:$KAFKA_PORT"
}

ensure_stack_dirs() { mkdir -p "$LOG_DIR" "$RUN_DIR"; }

# pid_alive PIDFILE PATTERN: true when the pid file names a live process whose command line
# contains PATTERN. A pid file left by a dead process (or a recycled pid) is removed.
pid_alive() {
  local file="$1" pattern="$2" pid
  [[ -f "$file" ]] || return 1
  pid="$(cat "$file" 2>/dev/null || true)"
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
     tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern"; then
    return 0
  fi
  rm -f "$file"
  return 1
}

pid_of() { cat "$1"; }

# start_detached PIDFILE LOGFILE CMD...: runs CMD in its own session (so a Ctrl-C in the terminal
# or the end of this script does not reach it), output appended to LOGFILE.
start_detached() {
  local pidfile="$1" logfile="$2"; shift 2
  printf '\n=== %s starting: %s\n' "$(date -Is)" "$*" >>"$logfile"
  setsid "$@" >>"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
}

# stop_pid NAME PIDFILE PATTERN [TIMEOUT]: SIGTERM, wait for exit, SIGKILL after TIMEOUT seconds.
stop_pid() {
  local name="$1" file="$2" pattern="$3" timeout="${4:-30}" pid i
  if ! pid_alive "$file" "$pattern"; then
    return 0
  fi
  pid="$(pid_of "$file")"
  info "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 5; i++)); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$file"; ok "$name stopped"; return 0; }
    sleep 0.2
  done
  warn "$name (pid $pid) did not exit within ${timeout}s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  rm -f "$file"
}

# wait_until NAME TIMEOUT LOGFILE PIDFILE PATTERN CHECK...: polls CHECK every 0.5s until it
# succeeds. Fails at once if the process behind PIDFILE dies (PIDFILE may be ''), and after
# TIMEOUT seconds; both failures print the tail of LOGFILE.
wait_until() {
  local name="$1" timeout="$2" log="$3" pidfile="$4" pattern="$5"; shift 5
  local deadline=$((SECONDS + timeout))
  while ! "$@" >/dev/null 2>&1; do
    if [[ -n "$pidfile" ]] && ! pid_alive "$pidfile" "$pattern"; then
      show_log_tail "$log"
      die "$name exited during start-up (log: $log)"
    fi
    if ((SECONDS >= deadline)); then
      show_log_tail "$log"
      die "$name not ready after ${timeout}s (log: $log)"
    fi
    sleep 0.5
  done
}

show_log_tail() {
  local log="$1"
  [[ -f "$log" ]] || return 0
  printf -- '--- last lines of %s ---\n' "$log" >&2
  tail -n 30 "$log" >&2
  printf -- '---\n' >&2
}

# The address a client on this machine uses for a listen address (":8000", "0.0.0.0:8000").
client_addr() {
  local listen="$1" host port
  port="${listen##*:}"
  host="${listen%:*}"
  case "$host" in ''|0.0.0.0|'[::]'|'::'|'*') host=127.0.0.1 ;; esac
  printf '%s:%s\n' "$host" "$port"
}
