# A private PostgreSQL 15 cluster per stack, on its own port and socket folder.
# PostgreSQL refuses to run as root: as root, every server command runs as the `postgres` system
# user on a data folder it owns; otherwise as the current user.
# shellcheck shell=bash

# pg_as CMD...: run a PostgreSQL program as the cluster's owner. `cd /` first: the caller's folder
# may be one that the postgres user cannot enter, and initdb fails when it cannot read its cwd.
pg_as() {
  if is_root; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

pg_ctl_() { pg_as "$PG_BIN_DIR/pg_ctl" -D "$PG_DATA" "$@"; }

pg_running() {
  [[ -f "$PG_DATA/postmaster.pid" ]] && pg_ctl_ status >/dev/null 2>&1
}

pg_pid() { head -n1 "$PG_DATA/postmaster.pid" 2>/dev/null || true; }

pg_ready() { "$PG_BIN_DIR/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2; }

pg_psql() {
  pg_as "$PG_BIN_DIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKET_DIR" -p "$PG_PORT" -U postgres "$@"
}

pg_init() {
  [[ -f "$PG_DATA/PG_VERSION" ]] && return 0
  is_root && { id postgres >/dev/null 2>&1 || die "the postgres system user is missing (package postgresql)"; }
  info "creating PostgreSQL cluster ($STACK) in $PG_DATA"
  mkdir -p "$PG_STATE"
  # The postgres user must be able to traverse the parent even under a strict umask.
  chmod 755 "$(dirname "$PG_STATE")"
  is_root && chown postgres: "$PG_STATE"
  chmod 700 "$PG_STATE"
  pg_as mkdir -p "$PG_SOCKET_DIR"
  # Trust on loopback only: a private cluster that listens on 127.0.0.1 and a private socket.
  pg_as "$PG_BIN_DIR/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
    >"$PG_STATE/initdb.log" 2>&1 || { show_log_tail "$PG_STATE/initdb.log"; die "initdb failed"; }
  {
    echo "# Written by deploy/lib/postgres.sh for the $STACK stack."
    echo "listen_addresses = '127.0.0.1'"
    echo "port = $PG_PORT"
    echo "unix_socket_directories = '$PG_SOCKET_DIR'"
    echo "max_connections = 200"
    echo "shared_buffers = 128MB"
    echo "log_min_messages = warning"
    echo "log_line_prefix = '%m [%p] %q%u@%d '"
    if [[ "$STACK" == test && "${PG_DURABLE:-0}" != 1 ]]; then
      # Throw-away data: durability settings only cost time here. (Benchmarks set PG_DURABLE=1:
      # they measure the database as deployed.)
      echo "fsync = off"
      echo "synchronous_commit = off"
      echo "full_page_writes = off"
    fi
  } | pg_as tee -a "$PG_DATA/postgresql.conf" >/dev/null
}

pg_start() {
  pg_init
  if pg_running; then
    # postmaster.pid's fourth line is the port it listens on.
    local running_port
    running_port="$(sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null || true)"
    [[ -z "$running_port" || "$running_port" == "$PG_PORT" ]] ||
      die "PostgreSQL ($STACK) runs on port $running_port, but this stack's port is now $PG_PORT: ./deploy/dev restart moves it"
    ok "PostgreSQL ($STACK) already running (pid $(pg_pid), port $PG_PORT)"
  else
    local setting=''
    [[ "$STACK" == dev ]] && setting=DEV_POSTGRES_PORT
    port_listening "$PG_PORT" && die_port_taken "PostgreSQL ($STACK)" "$PG_PORT" "$setting"
    info "starting PostgreSQL ($STACK) on port $PG_PORT"
    pg_as mkdir -p "$PG_SOCKET_DIR"
    # -W: do not wait here; the readiness loop below waits with a clear timeout.
    # The port is given at every start, not only at initdb: a cluster made for another port
    # (an older default, or DEV_POSTGRES_PORT since changed) moves with it.
    pg_ctl_ -l "$PG_LOG" -o "-p $PG_PORT" -W start >/dev/null ||
      { show_log_tail "$PG_LOG"; die "pg_ctl start failed"; }
    UP_STARTED+=(postgres)
    local started=$SECONDS
    until pg_ready; do
      if ((SECONDS - started >= 60)) || { ((SECONDS - started >= 5)) && ! pg_running; }; then
        show_log_tail "$PG_LOG"
        die "PostgreSQL ($STACK) not ready (log: $PG_LOG)"
      fi
      sleep 0.3
    done
  fi
  pg_bootstrap
  ok "PostgreSQL ($STACK) ready: $DATABASE_URL_STACK"
}

# Role mds (password mds, may create databases and checkpoint) and database marketdata.
pg_bootstrap() {
  if [[ "$(pg_psql -d postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'mds'")" != 1 ]]; then
    pg_psql -d postgres -c "CREATE ROLE mds LOGIN PASSWORD 'mds' CREATEDB"
  fi
  # Benchmarks force a checkpoint after bulk loads, so they measure steady state. Tests drop
  # their scratch databases WITH (FORCE), which must also end an autovacuum worker that happens
  # to be in one (it runs as no role, so only pg_signal_backend may end it).
  pg_psql -d postgres -qc "SET client_min_messages = warning; GRANT pg_checkpoint, pg_signal_backend TO mds"
  if [[ "$(pg_psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'marketdata'")" != 1 ]]; then
    pg_psql -d postgres -c "CREATE DATABASE marketdata OWNER mds"
  fi
}

pg_stop() {
  if ! pg_running; then
    return 0
  fi
  info "stopping PostgreSQL ($STACK, pid $(pg_pid))"
  pg_ctl_ stop -m fast -w -t 60 >/dev/null || die "PostgreSQL ($STACK) did not stop (log: $PG_LOG)"
  ok "PostgreSQL ($STACK) stopped"
}

pg_wipe() {
  pg_stop
  [[ -d "$PG_STATE" ]] && { info "removing $PG_STATE"; rm -rf "$PG_STATE"; }
  return 0
}

pg_status() {
  if pg_running; then
    printf '  %-12s running  pid %-7s %s\n' postgres "$(pg_pid)" "$DATABASE_URL_STACK"
  else
    printf '  %-12s stopped\n' postgres
  fi
}
