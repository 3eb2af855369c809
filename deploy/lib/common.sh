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

# What this run of the script started (postgres, kafka, api, consumer, gateway), in order: a
# failed `up` stops these again, and only these.
UP_STARTED=()

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# stack_select dev|test|faults: sets every name and port of one stack, so they can run side by
# side (faults: the fault-injection suite, whose PostgreSQL and broker it kills and restarts).
# Every port is below the kernel's ephemeral range (32768 and up), from which the machine's
# outgoing connections take their local ports: a port there may be taken at any moment.
#   STACK_DIR   repo-local state of the stack (logs, pid files, Kafka data); MDS_STACK_ROOT
#               moves it (tests run a stack's services from a folder of their own)
#   PG_STATE    PostgreSQL data and socket; outside the clone because the clone may sit in a
#               folder (e.g. /root) that the postgres system user cannot enter
# The dev stack's ports can be set in .env (or the environment): DEV_POSTGRES_PORT,
# DEV_KAFKA_PORT, DEV_KAFKA_CONTROLLER_PORT; the services' own addresses are their settings.
#   CLUSTER     single: one PostgreSQL, one broker (every stack by default); replicated: three
#               brokers and a PostgreSQL primary with a synchronous standby (cluster.sh), which
#               the dev stack runs with DEV_CLUSTER=replicated
stack_select() {
  STACK="$1"
  CLUSTER=single
  case "$STACK" in
    dev)
      PG_PORT="$(dev_setting DEV_POSTGRES_PORT 15432)"
      KAFKA_PORT="$(dev_setting DEV_KAFKA_PORT 9092)"
      KAFKA_CONTROLLER_PORT="$(dev_setting DEV_KAFKA_CONTROLLER_PORT 9093)"
      CLUSTER="$(dev_choice DEV_CLUSTER single single replicated)"
      ;;
    test) PG_PORT=15433; KAFKA_PORT=19092; KAFKA_CONTROLLER_PORT=19093 ;;
    faults) PG_PORT=15434; KAFKA_PORT=29092; KAFKA_CONTROLLER_PORT=29093 ;;
    *) die "unknown stack '$STACK'" ;;
  esac
  STACK_DIR="${MDS_STACK_ROOT:-$LOCAL_DIR}/$STACK"
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
  # The replicated layout's folders and ports; with CLUSTER=replicated its addresses above.
  cluster_select
}

# .env in the repo root (MDS_DOTENV names another): KEY=value lines, '#' comments, optional
# quotes and `export `. Never evaluated by the shell. dotenv_pairs prints KEY<TAB>value lines.
dotenv_pairs() {
  local file="${MDS_DOTENV:-$REPO_ROOT/.env}" line key value
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
    printf '%s\t%s\n' "$key" "$value"
  done <"$file"
}

# dev_value NAME DEFAULT: NAME from the environment, else from .env, else DEFAULT.
dev_value() {
  local name="$1" value
  if [[ -n "${!name:-}" ]]; then
    value="${!name}"
  else
    value="$(dotenv_pairs | awk -F'\t' -v k="$name" '$1 == k { v = $2 } END { print v }')"
  fi
  printf '%s\n' "${value:-$2}"
}

# dev_setting NAME DEFAULT: a port number, as dev_value finds it.
dev_setting() {
  local value
  value="$(dev_value "$1" "$2")"
  [[ "$value" =~ ^[0-9]+$ ]] || die "$1 must be a port number, not '$value'"
  printf '%s\n' "$value"
}

# dev_choice NAME DEFAULT ALLOWED...: one of ALLOWED, as dev_value finds it.
dev_choice() {
  local name="$1" value choice
  value="$(dev_value "$1" "$2")"
  shift 2
  for choice in "$@"; do
    [[ "$value" == "$choice" ]] && { printf '%s\n' "$value"; return 0; }
  done
  die "$name must be one of: $*; not '$value'"
}

ensure_stack_dirs() { mkdir -p "$LOG_DIR" "$RUN_DIR"; }

# Pid files hold "PID STARTTIME": the start time (in clock ticks since boot, from /proc) names
# one process for its whole life, across exec, and never a later process given the same pid. So
# a process is recognised from the moment it is forked, before it has exec'd its program, and a
# pid file is only ever removed once the process it names is gone.

# proc_starttime PID: prints the process's start time; fails when it does not exist or is a
# zombie (it has exited; only its parent has not collected it yet).
proc_starttime() {
  local stat fields
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  # Fields after "PID (COMMAND) ", which may hold spaces: state is field 3, starttime field 22.
  read -r -a fields <<<"${stat##*) }"
  [[ "${fields[0]}" != Z && "${fields[19]:-}" =~ ^[0-9]+$ ]] || return 1
  printf '%s\n' "${fields[19]}"
}

# write_pidfile FILE PID: records PID with its start time.
write_pidfile() {
  local start
  start="$(proc_starttime "$2")" || start=gone
  printf '%s %s\n' "$2" "$start" >"$1"
}

# pid_alive PIDFILE [PATTERN]: true while the process the pid file names runs. A pid file whose
# process has ended is removed. PATTERN only serves pid files of older versions of these
# scripts, which hold no start time: the process must then have it in its command line.
pid_alive() {
  local file="$1" pattern="${2:-}" pid='' start='' now
  [[ -f "$file" ]] || return 1
  read -r pid start <"$file" 2>/dev/null || true
  if [[ "$pid" =~ ^[0-9]+$ ]] && now="$(proc_starttime "$pid")"; then
    [[ "$now" == "$start" ]] && return 0
    if [[ -z "$start" && -n "$pattern" ]] &&
       tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern"; then
      write_pidfile "$file" "$pid"
      return 0
    fi
  fi
  rm -f "$file"
  return 1
}

pid_of() { local pid rest; read -r pid rest <"$1"; printf '%s\n' "$pid"; }

# start_detached PIDFILE LOGFILE CMD...: runs CMD in its own session (so a Ctrl-C in the terminal
# or the end of this script does not reach it), output appended to LOGFILE. MDS_DEV_START_DELAY
# (seconds) holds the forked process back before its exec: tests widen the window in which it
# is not yet CMD with it.
start_detached() {
  local pidfile="$1" logfile="$2" delay="${MDS_DEV_START_DELAY:-0}"; shift 2
  printf '\n=== %s starting: %s\n' "$(date -Is)" "$*" >>"$logfile"
  # Without job control a background process does not lead a process group, so setsid makes
  # this very process (same pid) the leader of a new session rather than forking again.
  (
    [[ "$delay" == 0 ]] || sleep "$delay"
    exec setsid "$@"
  ) >>"$logfile" 2>&1 </dev/null &
  write_pidfile "$pidfile" "$!"
}

# stop_pid NAME PIDFILE PATTERN [TIMEOUT]: SIGTERM, wait for exit, SIGKILL after TIMEOUT seconds.
stop_pid() {
  local name="$1" file="$2" pattern="$3" timeout="${4:-30}" pid i
  pid_alive "$file" "$pattern" || return 0
  pid="$(pid_of "$file")"
  info "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 5; i++)); do
    pid_alive "$file" || { ok "$name stopped"; return 0; }
    sleep 0.2
  done
  warn "$name (pid $pid) did not exit within ${timeout}s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    pid_alive "$file" || return 0
    sleep 0.1
  done
  # Its pid file stays, so the next `down` tries again.
  warn "$name (pid $pid) is still there after SIGKILL"
}

# wait_until NAME TIMEOUT LOGFILE ALIVE CHECK...: polls CHECK every 0.5s until it succeeds.
# Fails at once when the command line ALIVE (evaluated; '' for none) says the process being
# started has died, and after TIMEOUT seconds; both failures print the tail of LOGFILE.
wait_until() {
  local name="$1" timeout="$2" log="$3" alive="$4"; shift 4
  local deadline=$((SECONDS + timeout))
  while ! "$@" >/dev/null 2>&1; do
    if [[ -n "$alive" ]] && ! eval "$alive"; then
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

# port_listening PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# port_holder PORT: "pid N (program)" of the process listening on PORT, when this user may see
# it; nothing otherwise.
port_holder() {
  local line pid
  line="$(ss -Htlnp "sport = :$1" 2>/dev/null | grep -o 'users:(("[^"]*",pid=[0-9]*' | head -n1)" || true
  [[ "$line" =~ \(\(\"([^\"]*)\",pid=([0-9]+) ]] || return 0
  pid="${BASH_REMATCH[2]}"
  printf 'pid %s (%s)\n' "$pid" "$(tr '\0\n' '  ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-100 || echo "${BASH_REMATCH[1]}")"
}

# die_port_taken WHAT PORT [SETTING]: stops with what holds PORT, and how to free it or (with
# SETTING, the .env setting of that port) move to another.
die_port_taken() {
  local what="$1" port="$2" setting="${3:-}" holder pid='' move=''
  holder="$(port_holder "$port")"
  [[ -n "$setting" ]] && move=", or give $what another port with $setting in .env"
  if [[ -n "$holder" ]]; then
    pid="${holder#pid }" pid="${pid%% *}"
    die "$what: port $port is held by $holder, which this script did not start. Stop it (kill $pid)$move."
  fi
  die "$what: port $port is held by a process this script did not start ('sudo ss -tlnp sport = :$port' names it). Stop it$move."
}

# The address a client on this machine uses for a listen address (":8000", "0.0.0.0:8000").
client_addr() {
  local listen="$1" host port
  port="${listen##*:}"
  host="${listen%:*}"
  case "$host" in ''|0.0.0.0|'[::]'|'::'|'*') host=127.0.0.1 ;; esac
  printf '%s:%s\n' "$host" "$port"
}
