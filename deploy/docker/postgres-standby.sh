#!/usr/bin/env bash
# The `postgres-standby` service of docker-compose.yml (profile replicated): a hot standby of the
# `postgres` service that it replicates to synchronously. Runs as the postgres user of the
# postgres:15 image, on its own volume:
#   - first start: allows replication connections on the primary (the image's pg_hba.conf has
#     rules for ordinary ones only) and copies it with pg_basebackup;
#   - every start: runs as a hot standby, and once it streams names itself in the primary's
#     synchronous_standby_names, with synchronous_commit = remote_apply: a commit returns once
#     the standby has applied it, so a read here sees every committed write;
#   - on SIGTERM (`docker compose stop`): takes itself out of synchronous_standby_names, so the
#     primary goes on alone, then stops. Killed instead, it stays named and the primary's commits
#     wait until it is back (restart: unless-stopped), as synchronous replication means.
# Settings: PRIMARY_HOST, PRIMARY_PORT, PGUSER and PGPASSWORD (a superuser of the primary, as
# POSTGRES_USER is), STANDBY_NAME (its application_name), PGDATA.
set -euo pipefail

primary_host="${PRIMARY_HOST:-postgres}" primary_port="${PRIMARY_PORT:-5432}"
name="${STANDBY_NAME:-postgres_standby}"
: "${PGDATA:?}" "${PGUSER:?}"
export PGDATA PGUSER PGPASSWORD PGCONNECT_TIMEOUT=5

on_primary() {
  psql -X -q -v ON_ERROR_STOP=1 -tA -h "$primary_host" -p "$primary_port" -d postgres "$@"
}

echo "waiting for the primary at $primary_host:$primary_port"
until pg_isready -q -h "$primary_host" -p "$primary_port" -t 5; do sleep 1; done

if [[ ! -s "$PGDATA/PG_VERSION" ]]; then
  # A replication rule for the compose network, once; the primary reloads its rules.
  if [[ "$(on_primary -c "SELECT count(*) FROM pg_hba_file_rules WHERE database = '{replication}' AND address = 'all'")" == 0 ]]; then
    on_primary -c "DO \$\$ BEGIN EXECUTE format('COPY (SELECT %L) TO PROGRAM %L',
      'host replication all all scram-sha-256', 'cat >> ' || current_setting('hba_file')); END \$\$"
    on_primary -c 'SELECT pg_reload_conf()' >/dev/null
  fi
  echo "copying the primary (pg_basebackup)"
  mkdir -p "$PGDATA"
  chmod 700 "$PGDATA"
  find "$PGDATA" -mindepth 1 -delete
  pg_basebackup -D "$PGDATA" -h "$primary_host" -p "$primary_port" -X stream -c fast -R
  # -R wrote how to follow the primary; this one also names the standby. A standby never
  # waits for another: no synchronous_standby_names of its own.
  sed -i '/^primary_conninfo/d; /^synchronous_standby_names/d' "$PGDATA/postgresql.auto.conf"
  printf "primary_conninfo = 'host=%s port=%s user=%s password=%s application_name=%s'\n" \
    "$primary_host" "$primary_port" "$PGUSER" "$PGPASSWORD" "$name" >>"$PGDATA/postgresql.auto.conf"
fi

postgres -c listen_addresses='*' -c hot_standby=on &
server=$!

leave() {
  trap - TERM INT
  echo "leaving synchronous replication, then stopping"
  on_primary -c 'ALTER SYSTEM RESET synchronous_standby_names' -c 'SELECT pg_reload_conf()' >/dev/null || true
  kill -INT "$server" 2>/dev/null || true   # fast shutdown
  wait "$server" || true
  exit 0
}
trap leave TERM INT

streaming() {
  [[ "$(on_primary -c "SELECT count(*) FROM pg_stat_replication WHERE application_name = '$name' AND state = 'streaming'")" == 1 ]]
}
while kill -0 "$server" 2>/dev/null && ! streaming 2>/dev/null; do sleep 1; done
kill -0 "$server" 2>/dev/null || { wait "$server"; exit 1; }
on_primary -c "ALTER SYSTEM SET synchronous_standby_names = '$name'" \
  -c "ALTER SYSTEM SET synchronous_commit = 'remote_apply'" -c 'SELECT pg_reload_conf()' >/dev/null
echo "streaming from $primary_host:$primary_port as its synchronous standby '$name'"

# `wait` returns early when a signal arrives (leave then runs); otherwise the server has exited.
wait "$server"
