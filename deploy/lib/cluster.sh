# The replicated layout of a stack (CLUSTER=replicated; the dev stack's with DEV_CLUSTER=replicated):
# three Kafka nodes, each a broker and a controller in one JVM (a quorum of three voters), whose
# topics keep three replicas and accept a write once two have it; and a PostgreSQL primary with a
# hot standby that it replicates to synchronously. The single layout (kafka.sh, postgres.sh)
# keeps its own data: switching DEV_CLUSTER never mixes the two, and each keeps what it stored.
#
# Ports: node N (1, 2, 3) listens on the stack's port + 100 * (N - 1). With the dev stack's
# defaults: brokers 9092, 9192, 9292, controllers 9093, 9193, 9293, PostgreSQL 15432 (node 1, the
# primary to begin with) and 15532 (node 2, its standby). Steps of 100 keep clear of the other
# stacks' ports (test 15433/19092/19093, faults 15434/29092/29093).
#
# PostgreSQL commits with synchronous_commit = remote_apply and the standby named in the
# primary's synchronous_standby_names: a commit returns once the standby has applied it, so what
# a client wrote can be read back from the standby at once, and a commit that returned survives
# the loss of either node. (remote_write or on would survive it too, but could let a read on the
# standby miss a committed write.) The price: a primary without its standby waits at every
# commit, until the standby is back or another is named (pg_node_promote, pg_node_rejoin).
#
# Functions for fault scenarios, on the selected stack (stack_select); N is a node's number, and
# each waits for what it does to have happened. `./deploy/dev cluster ACTION [N]` runs them on
# the dev stack (ACTION: the name without its prefix and with dashes, e.g. kafka-kill 2).
#   kafka_node_stop N       SIGTERM to broker N; returns once it has exited (controlled shutdown)
#   kafka_node_kill N       SIGKILL to broker N; returns once it is gone
#   kafka_node_start N      starts broker N again; returns once the metadata lists it and every
#                           replica of the stack's topics is in sync again
#   kafka_active_controller prints the node id of the quorum's leader, the active controller
#   kafka_partition_leader TOPIC PARTITION
#                           prints the id of the partition's leader (-1: it has none)
#   kafka_partition_isr TOPIC PARTITION
#                           prints its in-sync replicas, ids separated by commas
#   pg_primary_node         prints N of the node that runs and takes writes
#   pg_node_kill N          SIGKILL to node N's postmaster; its backends then exit by themselves
#   pg_kill_primary         pg_node_kill of the primary; prints its N
#   pg_node_start N         starts node N again as what it was; refuses a primary whose standby
#                           was promoted meanwhile (pg_node_rejoin makes it a standby)
#   pg_node_promote N       promotes standby N (`pg_ctl promote`): it takes writes and commits
#                           without waiting for a standby, until one rejoins
#   pg_node_rejoin N        makes node N afresh (pg_basebackup) as the synchronous standby of
#                           the primary; what it held that the primary lacks is dropped
# shellcheck shell=bash

KAFKA_CLUSTER_NODES=(1 2 3)
PG_CLUSTER_NODES=(1 2)
KAFKA_CLUSTER_REPLICATION=3
KAFKA_CLUSTER_MIN_ISR=2
KAFKA_CLUSTER_HEAP_OPTS=(-Xmx384m -Xms128m)
# Seconds: a start-up under load (three JVMs on two busy cores) is slow, never stuck for this long.
CLUSTER_START_TIMEOUT=240

# node_port BASE N: the port of node N, for the port BASE of node 1.
node_port() { printf '%s\n' $(($1 + 100 * ($2 - 1))); }

# cluster_select: the replicated layout's folders and ports (set for every stack, so that `down`
# finds its nodes whatever the setting says now); with CLUSTER=replicated also the addresses the
# services get, every node's.
cluster_select() {
  KAFKA_CLUSTER_DIR="$STACK_DIR/kafka-replicated"
  PG_CLUSTER_DIR="$PG_STATE/replicated"
  local n voters=() brokers=() hosts=()
  for n in "${KAFKA_CLUSTER_NODES[@]}"; do
    voters+=("$n@127.0.0.1:$(node_port "$KAFKA_CONTROLLER_PORT" "$n")")
    brokers+=("127.0.0.1:$(node_port "$KAFKA_PORT" "$n")")
  done
  for n in "${PG_CLUSTER_NODES[@]}"; do hosts+=("127.0.0.1:$(node_port "$PG_PORT" "$n")"); done
  KAFKA_CLUSTER_VOTERS="$(IFS=,; printf '%s' "${voters[*]}")"
  KAFKA_CLUSTER_BOOTSTRAP="$(IFS=,; printf '%s' "${brokers[*]}")"
  PG_CLUSTER_URL="postgresql://mds:mds@$(IFS=,; printf '%s' "${hosts[*]}")/marketdata?target_session_attrs=read-write"
  if [[ "$CLUSTER" == replicated ]]; then
    DATABASE_URL_STACK="$PG_CLUSTER_URL"
    KAFKA_BOOTSTRAP_STACK="$KAFKA_CLUSTER_BOOTSTRAP"
  fi
}

# cluster_check_ports: every port of the layout is a port, and no two are the same.
cluster_check_ports() {
  local n ports=() p seen=' '
  for n in "${KAFKA_CLUSTER_NODES[@]}"; do
    ports+=("$(node_port "$KAFKA_PORT" "$n")" "$(node_port "$KAFKA_CONTROLLER_PORT" "$n")")
  done
  for n in "${PG_CLUSTER_NODES[@]}"; do ports+=("$(node_port "$PG_PORT" "$n")"); done
  for p in "${ports[@]}"; do
    ((p > 0 && p < 65536)) || die "the replicated $STACK stack would listen on port $p: lower its ports"
    [[ "$seen" == *" $p "* ]] &&
      die "the replicated $STACK stack would use port $p twice (node N listens on a port + 100 * (N - 1)): move DEV_POSTGRES_PORT, DEV_KAFKA_PORT or DEV_KAFKA_CONTROLLER_PORT apart"
    seen+="$p "
  done
}

# --- Kafka -------------------------------------------------------------------------------------

# kafka_on N CMD...: runs CMD with kafka.sh's variables (KAFKA_DIR, KAFKA_LOG, KAFKA_PID,
# KAFKA_PORT, KAFKA_CONTROLLER_PORT) naming node N, so kafka_running, kafka_pattern and
# kafka_java serve one node. Not nested.
kafka_on() {
  local n="$1"
  shift
  local KAFKA_NODE="$n" KAFKA_DIR="$KAFKA_CLUSTER_DIR/node$n" KAFKA_LOG="$LOG_DIR/kafka-$n.log" \
    KAFKA_PID="$RUN_DIR/kafka-$n.pid" KAFKA_PORT="$(node_port "$KAFKA_PORT" "$n")" \
    KAFKA_CONTROLLER_PORT="$(node_port "$KAFKA_CONTROLLER_PORT" "$n")"
  "$@"
}

kafka_node_running() { kafka_on "$1" kafka_running; }

kafka_cluster_any_running() {
  local n
  for n in "${KAFKA_CLUSTER_NODES[@]}"; do kafka_node_running "$n" && return 0; done
  return 1
}

kafka_node_write_config() {
  mkdir -p "$KAFKA_DIR/data"
  {
    cat <<PROPS
# Written by deploy/lib/cluster.sh for node $KAFKA_NODE of the replicated $STACK stack; rewritten at
# every start.
process.roles=broker,controller
node.id=$KAFKA_NODE
controller.quorum.voters=$KAFKA_CLUSTER_VOTERS
# Three copies of everything; a write (acks=all) needs two of them: one broker may be lost.
default.replication.factor=$KAFKA_CLUSTER_REPLICATION
min.insync.replicas=$KAFKA_CLUSTER_MIN_ISR
offsets.topic.replication.factor=$KAFKA_CLUSTER_REPLICATION
transaction.state.log.replication.factor=$KAFKA_CLUSTER_REPLICATION
transaction.state.log.min.isr=$KAFKA_CLUSTER_MIN_ISR
transaction.state.log.num.partitions=6
unclean.leader.election.enable=false
# Three brokers share the cores too: one thread fetches each node's replicas.
num.replica.fetchers=1
PROPS
    kafka_shared_properties
  } >"$KAFKA_DIR/server.properties"
  kafka_write_log4j "$KAFKA_DIR"
}

# The nodes share one cluster id, made once; each node's storage is formatted once with it.
kafka_node_format() {
  [[ -f "$KAFKA_DIR/data/meta.properties" ]] && return 0
  local id_file="$KAFKA_CLUSTER_DIR/cluster.id" id
  if [[ ! -s "$id_file" ]]; then
    id="$(kafka_java kafka.tools.StorageTool random-uuid)" || die "kafka StorageTool random-uuid failed"
    printf '%s\n' "$id" >"$id_file"
  fi
  id="$(cat "$id_file")"
  info "formatting Kafka storage (node $KAFKA_NODE of $STACK, cluster id $id)"
  kafka_java kafka.tools.StorageTool format --cluster-id="$id" -c "$KAFKA_DIR/server.properties" >>"$KAFKA_LOG" 2>&1 ||
    { show_log_tail "$KAFKA_LOG"; die "kafka storage format failed (node $KAFKA_NODE)"; }
}

# Within kafka_on: starts the node unless it runs; does not wait.
kafka_node_launch() {
  if kafka_running; then
    ok "Kafka node $KAFKA_NODE ($STACK) already running (pid $(pid_of "$KAFKA_PID"), 127.0.0.1:$KAFKA_PORT)"
    return 0
  fi
  [[ -d "$KAFKA_LIB_DIR" ]] || die "Kafka jars missing in $KAFKA_LIB_DIR (run ./deploy/dev install)"
  local port setting
  for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    setting=''
    if [[ "$STACK" == dev ]]; then
      setting=DEV_KAFKA_PORT
      [[ "$port" == "$KAFKA_CONTROLLER_PORT" ]] && setting=DEV_KAFKA_CONTROLLER_PORT
    fi
    port_listening "$port" && die_port_taken "Kafka node $KAFKA_NODE ($STACK)" "$port" "$setting"
  done
  mkdir -p "$KAFKA_CLUSTER_DIR"
  kafka_node_write_config
  kafka_node_format
  info "starting Kafka node $KAFKA_NODE ($STACK) on 127.0.0.1:$KAFKA_PORT"
  start_detached "$KAFKA_PID" "$KAFKA_LOG" \
    java "${KAFKA_CLUSTER_HEAP_OPTS[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
      -Dlog4j.configuration="file:$KAFKA_DIR/log4j.properties" \
      -cp "$(kafka_cp)" kafka.Kafka "$KAFKA_DIR/server.properties"
  UP_STARTED+=("kafka-$KAFKA_NODE")
}

# kafka_metadata_brokers: the ids of the brokers the cluster's metadata lists (registered and
# not fenced), one a line.
kafka_metadata_brokers() {
  kcat -b "$KAFKA_CLUSTER_BOOTSTRAP" -L -m 5 2>/dev/null | sed -n 's/^  broker \([0-9]*\) at .*/\1/p'
}

kafka_metadata_has_broker() { kafka_metadata_brokers | grep -qx "$1"; }

kafka_metadata_has_all() { [[ "$(kafka_metadata_brokers | sort -u | wc -l)" -eq ${#KAFKA_CLUSTER_NODES[@]} ]]; }

# kafka_cluster_wait CHECK...: polls CHECK until it succeeds; fails at once, with the node's
# log, when a node this run relies on has exited, and after CLUSTER_START_TIMEOUT seconds.
kafka_cluster_wait() {
  local what="$1" deadline=$((SECONDS + CLUSTER_START_TIMEOUT)) n
  shift
  while ! "$@" >/dev/null 2>&1; do
    for n in "${KAFKA_CLUSTER_NODES[@]}"; do
      if [[ " ${KAFKA_WAIT_NODES:-} " == *" $n "* ]] && ! kafka_node_running "$n"; then
        show_log_tail "$LOG_DIR/kafka-$n.log"
        die "Kafka node $n ($STACK) exited during start-up (log: $LOG_DIR/kafka-$n.log)"
      fi
    done
    if ((SECONDS >= deadline)); then
      for n in ${KAFKA_WAIT_NODES:-}; do show_log_tail "$LOG_DIR/kafka-$n.log"; done
      die "Kafka ($STACK): no $what after ${CLUSTER_START_TIMEOUT}s"
    fi
    sleep 0.5
  done
}

kafka_node_listening() { port_listening "$(node_port "$KAFKA_PORT" "$1")"; }

# kafka_cluster_start: starts the nodes that do not run, waits until each listens and the
# metadata lists all three, creates the topics and waits until all their replicas are in sync.
kafka_cluster_start() {
  ensure_stack_dirs
  cluster_check_ports
  local n
  for n in "${KAFKA_CLUSTER_NODES[@]}"; do kafka_on "$n" kafka_node_launch; done
  local KAFKA_WAIT_NODES="${KAFKA_CLUSTER_NODES[*]}"
  for n in "${KAFKA_CLUSTER_NODES[@]}"; do
    kafka_cluster_wait "node $n listening" kafka_node_listening "$n"
  done
  kafka_cluster_wait "3 brokers in the metadata" kafka_metadata_has_all
  kafka_cluster_create_topics
  kafka_cluster_wait "every replica of the topics in sync" kafka_topics_in_sync
  ok "Kafka ($STACK) ready: $KAFKA_CLUSTER_BOOTSTRAP (3 brokers, replication factor $KAFKA_CLUSTER_REPLICATION, min.insync.replicas $KAFKA_CLUSTER_MIN_ISR)"
}

kafka_cluster_create_topics() {
  local existing spec topic parts
  existing="$(kcat -b "$KAFKA_CLUSTER_BOOTSTRAP" -L -m 5 2>/dev/null | sed -n 's/^  topic "\([^"]*\)".*/\1/p')"
  for spec in "${KAFKA_TOPICS[@]}"; do
    topic="${spec%%:*}" parts="${spec##*:}"
    grep -qxF "$topic" <<<"$existing" && continue
    info "creating topic $topic ($parts partitions, replication factor $KAFKA_CLUSTER_REPLICATION, min.insync.replicas $KAFKA_CLUSTER_MIN_ISR)"
    kafka_on 1 kafka_java org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_CLUSTER_BOOTSTRAP" \
      --create --if-not-exists --topic "$topic" --partitions "$parts" \
      --replication-factor "$KAFKA_CLUSTER_REPLICATION" --config "min.insync.replicas=$KAFKA_CLUSTER_MIN_ISR" >/dev/null ||
      die "could not create topic $topic"
  done
}

# kafka_partitions TOPIC: "PARTITION LEADER REPLICAS ISRS" lines (lists comma-separated) from
# the metadata.
kafka_partitions() {
  kcat -b "$KAFKA_CLUSTER_BOOTSTRAP" -L -m 5 -t "$1" 2>/dev/null |
    sed -n 's/^ *partition \([0-9]*\), leader \(-*[0-9]*\), replicas: \([0-9,]*\), isrs: \([0-9,]*\).*/\1 \2 \3 \4/p'
}

# Every partition of the stack's topics has a leader and all its replicas in sync.
kafka_topics_in_sync() {
  local spec topic parts lines p leader replicas isrs
  for spec in "${KAFKA_TOPICS[@]}"; do
    topic="${spec%%:*}" parts="${spec##*:}"
    lines="$(kafka_partitions "$topic")"
    [[ "$(grep -c . <<<"$lines")" -eq "$parts" ]] || return 1
    while read -r p leader replicas isrs; do
      ((leader >= 0)) || return 1
      [[ "$(tr ',' '\n' <<<"$isrs" | sort -u | wc -l)" -eq $KAFKA_CLUSTER_REPLICATION ]] || return 1
    done <<<"$lines"
  done
}

kafka_partition_leader() {
  local topic="${1:?topic}" partition="${2:?partition}"
  kafka_partitions "$topic" | awk -v p="$partition" '$1 == p { print $2; found = 1 } END { exit !found }' ||
    die "no partition $partition of $topic in the metadata of the $STACK stack"
}

kafka_partition_isr() {
  local topic="${1:?topic}" partition="${2:?partition}"
  kafka_partitions "$topic" | awk -v p="$partition" '$1 == p { print $4; found = 1 } END { exit !found }' ||
    die "no partition $partition of $topic in the metadata of the $STACK stack"
}

kafka_active_controller() {
  local conf="$KAFKA_CLUSTER_DIR/tools.properties" out id
  # Bounded: without a quorum (two nodes down) there is no leader to name.
  printf 'request.timeout.ms=5000\ndefault.api.timeout.ms=10000\n' >"$conf"
  out="$(kafka_on 1 kafka_java org.apache.kafka.tools.MetadataQuorumCommand \
    --bootstrap-server "$KAFKA_CLUSTER_BOOTSTRAP" --command-config "$conf" describe --status 2>&1)" ||
    die "kafka-metadata-quorum describe failed: $out"
  id="$(sed -n 's/^LeaderId:[[:space:]]*\([0-9-]*\).*/\1/p' <<<"$out")"
  [[ -n "$id" ]] || die "no LeaderId in: $out"
  printf '%s\n' "$id"
}

# cluster_node_arg COUNT VALUE: VALUE when it is a node number from 1 to COUNT.
cluster_node_arg() {
  [[ "${2:-}" =~ ^[0-9]+$ ]] && (($2 >= 1 && $2 <= $1)) || die "a node number from 1 to $1 is needed, not '${2:-}'"
  printf '%s\n' "$2"
}

kafka_node_stop() {
  local n
  n="$(cluster_node_arg ${#KAFKA_CLUSTER_NODES[@]} "${1:-}")"
  kafka_on "$n" stop_pid "Kafka node $n ($STACK)" "$RUN_DIR/kafka-$n.pid" "$KAFKA_CLUSTER_DIR/node$n/server.properties" 60
}

kafka_node_kill() {
  local n pid i
  n="$(cluster_node_arg ${#KAFKA_CLUSTER_NODES[@]} "${1:-}")"
  kafka_node_running "$n" || die "Kafka node $n ($STACK) is not running"
  pid="$(pid_of "$RUN_DIR/kafka-$n.pid")"
  kill -KILL "$pid"
  for ((i = 0; i < 200; i++)); do
    kafka_node_running "$n" || { ok "Kafka node $n ($STACK, pid $pid) killed"; return 0; }
    sleep 0.05
  done
  die "Kafka node $n ($STACK, pid $pid) still there after SIGKILL"
}

kafka_node_start() {
  local n
  n="$(cluster_node_arg ${#KAFKA_CLUSTER_NODES[@]} "${1:-}")"
  ensure_stack_dirs
  kafka_on "$n" kafka_node_launch
  local KAFKA_WAIT_NODES="$n"
  kafka_cluster_wait "node $n listening" kafka_node_listening "$n"
  kafka_cluster_wait "broker $n in the metadata" kafka_metadata_has_broker "$n"
  kafka_cluster_wait "every replica of the topics in sync" kafka_topics_in_sync
  ok "Kafka node $n ($STACK) ready: 127.0.0.1:$(node_port "$KAFKA_PORT" "$n"), every replica in sync"
}

# Stops every node at once: one by one, the last would wait for a quorum already gone.
kafka_cluster_stop() {
  local n pids=() names=() i
  for n in "${KAFKA_CLUSTER_NODES[@]}"; do
    kafka_node_running "$n" || continue
    pids+=("$(pid_of "$RUN_DIR/kafka-$n.pid")") names+=("$n")
  done
  ((${#pids[@]})) || return 0
  info "stopping Kafka nodes ${names[*]} ($STACK, pids ${pids[*]})"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for ((i = 0; i < 60 * 5; i++)); do
    kafka_cluster_any_running || { ok "Kafka nodes ${names[*]} ($STACK) stopped"; return 0; }
    sleep 0.2
  done
  for n in "${names[@]}"; do
    if kafka_node_running "$n"; then
      warn "Kafka node $n ($STACK) did not exit within 60s; killing it"
      kill -KILL "$(pid_of "$RUN_DIR/kafka-$n.pid")" 2>/dev/null || true
    fi
  done
  for ((i = 0; i < 50; i++)); do
    kafka_cluster_any_running || return 0
    sleep 0.1
  done
  warn "Kafka nodes of the $STACK stack still there after SIGKILL"
}

kafka_cluster_status() {
  local n brokers='' controller=''
  if kafka_cluster_any_running; then
    brokers=" $(kafka_metadata_brokers | sort -n | tr '\n' ' ')"
    controller="$( (kafka_active_controller) 2>/dev/null)" || controller=''
  fi
  for n in "${KAFKA_CLUSTER_NODES[@]}"; do
    if kafka_node_running "$n"; then
      local where="127.0.0.1:$(node_port "$KAFKA_PORT" "$n")"
      [[ "$brokers" == *" $n "* ]] || where+="  not in the metadata"
      [[ "$controller" == "$n" ]] && where+="  active controller"
      printf '  %-12s running  pid %-7s %s\n' "kafka-$n" "$(pid_of "$RUN_DIR/kafka-$n.pid")" "$where"
    else
      printf '  %-12s stopped\n' "kafka-$n"
    fi
  done
}

# --- PostgreSQL --------------------------------------------------------------------------------

# pg_on N CMD...: runs CMD with postgres.sh's variables (PG_DATA, PG_PORT, PG_LOG) naming node N,
# so pg_running, pg_ctl_, pg_ready, pg_psql and pg_bootstrap serve one node. Not nested.
pg_on() {
  local n="$1"
  shift
  local PG_NODE="$n" PG_DATA="$PG_CLUSTER_DIR/pg$n" PG_LOG="$PG_CLUSTER_DIR/pg$n.log" \
    PG_PORT="$(node_port "$PG_PORT" "$n")"
  "$@"
}

pg_node_name() { printf 'pg%s\n' "$1"; }

# Within pg_on: the postmaster that postmaster.pid names runs. Unlike pg_running (pg_ctl status),
# a killed one that its parent has not reaped yet (a zombie) does not count.
pg_live() {
  local pid
  pid="$(pg_pid)"
  [[ "$pid" =~ ^[0-9]+$ ]] && proc_starttime "$pid" >/dev/null &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF postgres
}

pg_node_running() { pg_on "$1" pg_live; }

# proc_zombie PID: the process has exited, and its parent has not collected it yet.
proc_zombie() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [[ "${stat:0:1}" == Z ]]
}
pg_node_exists() { [[ -f "$PG_CLUSTER_DIR/pg$1/PG_VERSION" ]]; }
pg_node_is_standby() { [[ -f "$PG_CLUSTER_DIR/pg$1/standby.signal" ]]; }
pg_node_sql() { local n="$1"; shift; pg_on "$n" pg_psql -d postgres -tA "$@"; }

pg_cluster_any_running() {
  local n
  for n in "${PG_CLUSTER_NODES[@]}"; do pg_node_running "$n" && return 0; done
  return 1
}

# The node the scripts last made primary (written at each start and promotion).
pg_cluster_marker() { cat "$PG_CLUSTER_DIR/primary" 2>/dev/null || true; }
pg_cluster_set_marker() { printf '%s\n' "$1" | pg_as tee "$PG_CLUSTER_DIR/primary" >/dev/null; }

# pg_cluster_pick_primary: the node to run as primary: the one that is no standby; of two such
# (a standby was promoted, its old primary was not made a standby since), the one promoted last.
pg_cluster_pick_primary() {
  local n candidates=() any=0 marker
  for n in "${PG_CLUSTER_NODES[@]}"; do
    pg_node_exists "$n" || continue
    any=1
    pg_node_is_standby "$n" || candidates+=("$n")
  done
  marker="$(pg_cluster_marker)"
  if ((${#candidates[@]} == 1)); then
    printf '%s\n' "${candidates[0]}"
  elif ((${#candidates[@]} > 1)) && [[ " ${candidates[*]} " == *" $marker "* ]]; then
    printf '%s\n' "$marker"
  elif ((${#candidates[@]} > 1)); then
    die "PostgreSQL ($STACK): nodes ${candidates[*]} are both primaries and $PG_CLUSTER_DIR/primary does not say which is current"
  elif ((any)); then
    die "PostgreSQL ($STACK): no node of $PG_CLUSTER_DIR is a primary: promote one (./deploy/dev cluster pg-promote N) or start afresh (./deploy/dev clean)"
  else
    printf '1\n'
  fi
}

# Within pg_on: a new cluster for the first primary, with the settings replication needs.
pg_node_init_primary() {
  pg_node_exists "$PG_NODE" && return 0
  pg_init
  {
    echo "# Replicated layout (deploy/lib/cluster.sh): settings of every node, copied to standbys."
    echo "wal_level = replica"
    echo "max_wal_senders = 10"
    echo "hot_standby = on"
    # A standby stopped for a while catches up from these without a replication slot (which
    # would keep WAL without bound while its standby is away).
    echo "wal_keep_size = '1GB'"
    # With synchronous_standby_names: a commit returns once the standby has applied it.
    echo "synchronous_commit = remote_apply"
    echo "cluster_name = '$(pg_node_name "$PG_NODE")'"
  } | pg_as tee -a "$PG_DATA/postgresql.conf" >/dev/null
}

# Within pg_on: starts the node unless it runs, and waits until it accepts connections.
pg_node_launch() {
  if pg_live; then
    local running_port
    running_port="$(sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null || true)"
    [[ -z "$running_port" || "$running_port" == "$PG_PORT" ]] ||
      die "PostgreSQL node $PG_NODE ($STACK) runs on port $running_port, not $PG_PORT: ./deploy/dev restart moves it"
    ok "PostgreSQL node $PG_NODE ($STACK) already running (pid $(pg_pid), port $PG_PORT)"
    return 0
  fi
  local setting='' orphans="$RUN_DIR/postgres-$PG_NODE.orphans" pid i
  [[ "$STACK" == dev ]] && setting=DEV_POSTGRES_PORT
  port_listening "$PG_PORT" && die_port_taken "PostgreSQL node $PG_NODE ($STACK)" "$PG_PORT" "$setting"
  # After a SIGKILL: the postmaster must be reaped (a new one refuses to start while the pid in
  # postmaster.pid exists), and its backends must have exited (releasing shared memory).
  pid="$(pg_pid)"
  if [[ "$pid" =~ ^[0-9]+$ ]]; then
    for ((i = 0; i < CLUSTER_START_TIMEOUT * 20; i++)); do
      proc_zombie "$pid" || break
      sleep 0.05
    done
  fi
  if [[ -f "$orphans" ]]; then
    for pid in $(cat "$orphans"); do
      for ((i = 0; i < 600; i++)); do
        proc_alive "$pid" postgres || break
        sleep 0.05
      done
    done
    rm -f "$orphans"
  fi
  info "starting PostgreSQL node $PG_NODE ($STACK) on port $PG_PORT"
  pg_as mkdir -p "$PG_SOCKET_DIR"
  pg_ctl_ -l "$PG_LOG" -o "-p $PG_PORT" -W start >/dev/null ||
    { show_log_tail "$PG_LOG"; die "pg_ctl start failed (node $PG_NODE)"; }
  UP_STARTED+=("postgres-$PG_NODE")
  local started=$SECONDS
  until pg_ready; do
    if ((SECONDS - started >= CLUSTER_START_TIMEOUT)) || { ((SECONDS - started >= 10)) && ! pg_live; }; then
      show_log_tail "$PG_LOG"
      die "PostgreSQL node $PG_NODE ($STACK) not ready (log: $PG_LOG)"
    fi
    sleep 0.3
  done
}

# pg_node_basebackup N PRIMARY: node N's data afresh, a copy of PRIMARY's that follows it as a hot
# standby named pgN (its application_name, which synchronous_standby_names names).
pg_node_basebackup() {
  local n="$1" p="$2" data="$PG_CLUSTER_DIR/pg$1" port conninfo
  port="$(node_port "$PG_PORT" "$p")"
  conninfo="host=127.0.0.1 port=$port user=postgres application_name=$(pg_node_name "$n")"
  info "copying PostgreSQL node $p to node $n (pg_basebackup), as its standby"
  pg_as rm -rf "$data"
  pg_as "$PG_BIN_DIR/pg_basebackup" -D "$data" -d "$conninfo" -X stream -c fast -R \
    >"$PG_CLUSTER_DIR/basebackup-$n.log" 2>&1 ||
    { show_log_tail "$PG_CLUSTER_DIR/basebackup-$n.log"; die "pg_basebackup of node $p failed"; }
  # -R wrote a primary_conninfo; this one names the standby. A standby never waits for another.
  pg_as sed -i '/^primary_conninfo/d; /^synchronous_standby_names/d' "$data/postgresql.auto.conf"
  {
    echo "primary_conninfo = '$conninfo'"
  } | pg_as tee -a "$data/postgresql.auto.conf" >/dev/null
  {
    echo "# Node $n of the replicated layout."
    echo "port = $(node_port "$PG_PORT" "$n")"
    echo "cluster_name = '$(pg_node_name "$n")'"
  } | pg_as tee -a "$data/postgresql.conf" >/dev/null
}

# pg_node_follows N PRIMARY: node N's recovery settings name PRIMARY's port.
pg_node_follows() {
  grep -q "^primary_conninfo = '.*port=$(node_port "$PG_PORT" "$2") " "$PG_CLUSTER_DIR/pg$1/postgresql.auto.conf" 2>/dev/null
}

# pg_replication_state PRIMARY STANDBY: "state sync_state" of STANDBY as PRIMARY sees it.
pg_replication_state() {
  pg_node_sql "$1" -c "SELECT state || ' ' || sync_state FROM pg_stat_replication WHERE application_name = '$(pg_node_name "$2")'" 2>/dev/null
}
pg_streaming() { [[ "$(pg_replication_state "$1" "$2")" == streaming* ]]; }
pg_in_sync() { [[ "$(pg_replication_state "$1" "$2")" == "streaming sync" ]]; }

# pg_cluster_wait WHAT NODE CHECK...: polls CHECK; fails when NODE has exited, or after the
# time-out, with NODE's log.
pg_cluster_wait() {
  local what="$1" n="$2" deadline=$((SECONDS + CLUSTER_START_TIMEOUT))
  shift 2
  while ! "$@" >/dev/null 2>&1; do
    if ! pg_node_running "$n" || ((SECONDS >= deadline)); then
      show_log_tail "$PG_CLUSTER_DIR/pg$n.log"
      die "PostgreSQL ($STACK): $what not reached (log: $PG_CLUSTER_DIR/pg$n.log)"
    fi
    sleep 0.3
  done
}

# pg_standby_up STANDBY PRIMARY: STANDBY runs and streams from PRIMARY; made afresh when it is
# missing, follows another node, was a primary, or lacks WAL the primary no longer keeps.
pg_standby_up() {
  local s="$1" p="$2" remake=''
  if ! pg_node_exists "$s"; then
    remake=new
  elif ! pg_node_is_standby "$s"; then
    warn "PostgreSQL node $s ($STACK) was a primary before node $p's promotion: making it node $p's standby (what it wrote after that is dropped)"
    remake=yes
  elif ! pg_node_follows "$s" "$p"; then
    remake=yes
  fi
  if [[ -n "$remake" ]]; then
    pg_on "$s" pg_node_stop_
    pg_node_basebackup "$s" "$p"
  fi
  pg_on "$s" pg_node_launch
  local deadline=$((SECONDS + CLUSTER_START_TIMEOUT)) offset
  offset="$(stat -c %s "$PG_CLUSTER_DIR/pg$s.log" 2>/dev/null || echo 0)"
  until pg_streaming "$p" "$s"; do
    if [[ -z "$remake" ]] && tail -c +"$((offset + 1))" "$PG_CLUSTER_DIR/pg$s.log" 2>/dev/null |
         grep -q 'requested WAL segment .* has already been removed'; then
      warn "PostgreSQL node $s ($STACK) was away too long to catch up: making it afresh"
      pg_on "$s" pg_node_stop_
      pg_node_basebackup "$s" "$p"
      pg_on "$s" pg_node_launch
      remake=yes
    fi
    if ! pg_node_running "$s" || ((SECONDS >= deadline)); then
      show_log_tail "$PG_CLUSTER_DIR/pg$s.log"
      die "PostgreSQL node $s ($STACK) does not stream from node $p (log: $PG_CLUSTER_DIR/pg$s.log)"
    fi
    sleep 0.3
  done
}

# pg_make_sync PRIMARY STANDBY: PRIMARY's commits wait for STANDBY; returns once it is in sync.
pg_make_sync() {
  local p="$1" s="$2" name
  name="$(pg_node_name "$s")"
  if [[ "$(pg_node_sql "$p" -c 'SHOW synchronous_standby_names')" != "$name" ]]; then
    pg_node_sql "$p" -q -c "ALTER SYSTEM SET synchronous_standby_names = '$name'" -c 'SELECT pg_reload_conf()' >/dev/null
  fi
  pg_cluster_wait "node $s as node $p's synchronous standby" "$p" pg_in_sync "$p" "$s"
}

# pg_cluster_start: the primary, then its standby, then synchronous replication, then the role
# and database (a commit on the primary waits for the standby from then on).
pg_cluster_start() {
  cluster_check_ports
  local p s
  p="$(pg_cluster_pick_primary)"
  s=$((3 - p))
  pg_on "$p" pg_node_init_primary
  pg_on "$p" pg_node_launch
  pg_cluster_set_marker "$p"
  pg_standby_up "$s" "$p"
  pg_make_sync "$p" "$s"
  pg_on "$p" pg_bootstrap
  ok "PostgreSQL ($STACK) ready: primary node $p (127.0.0.1:$(node_port "$PG_PORT" "$p")), synchronous standby node $s (127.0.0.1:$(node_port "$PG_PORT" "$s"))"
}

# Within pg_on: a fast shutdown (sessions are ended, the shutdown checkpoint written).
pg_node_stop_() {
  pg_live || return 0
  info "stopping PostgreSQL node $PG_NODE ($STACK, pid $(pg_pid))"
  pg_ctl_ stop -m fast -w -t 60 >/dev/null || die "PostgreSQL node $PG_NODE ($STACK) did not stop (log: $PG_LOG)"
  ok "PostgreSQL node $PG_NODE ($STACK) stopped"
}

# The primary first: it hands its last WAL to the standby as it stops.
pg_cluster_stop() {
  local p n
  p="$(pg_cluster_marker)"
  [[ "$p" == 1 || "$p" == 2 ]] || p=1
  for n in "$p" $((3 - p)); do pg_on "$n" pg_node_stop_; done
}

pg_primary_node() {
  local n
  for n in "${PG_CLUSTER_NODES[@]}"; do
    if pg_node_running "$n" && [[ "$(pg_node_sql "$n" -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" == f ]]; then
      printf '%s\n' "$n"
      return 0
    fi
  done
  warn "no PostgreSQL node of the $STACK stack runs as primary"
  return 1
}

pg_node_kill() {
  local n pid i
  n="$(cluster_node_arg ${#PG_CLUSTER_NODES[@]} "${1:-}")"
  pg_node_running "$n" || die "PostgreSQL node $n ($STACK) is not running"
  pid="$(pg_on "$n" pg_pid)"
  pgrep -P "$pid" >"$RUN_DIR/postgres-$n.orphans" 2>/dev/null || true
  kill -KILL "$pid"
  for ((i = 0; i < 200; i++)); do
    pg_node_running "$n" || break
    sleep 0.05
  done
  ok "PostgreSQL node $n ($STACK, pid $pid) killed"
}

pg_kill_primary() {
  local p
  p="$(pg_primary_node)" || die "no primary to kill"
  pg_node_kill "$p"
  printf '%s\n' "$p"
}

pg_node_start() {
  local n p
  n="$(cluster_node_arg ${#PG_CLUSTER_NODES[@]} "${1:-}")"
  pg_node_exists "$n" || die "PostgreSQL node $n ($STACK) has no data: ./deploy/dev up makes it"
  ensure_stack_dirs
  if ! pg_node_is_standby "$n" && [[ "$(pg_cluster_marker)" != "$n" ]]; then
    die "PostgreSQL node $n ($STACK) was a primary before node $(pg_cluster_marker)'s promotion: pg_node_rejoin $n (./deploy/dev cluster pg-rejoin $n) makes it a standby"
  fi
  pg_on "$n" pg_node_launch
  if pg_node_is_standby "$n" && p="$(pg_primary_node 2>/dev/null)"; then
    pg_cluster_wait "node $n streaming from node $p" "$n" pg_streaming "$p" "$n"
  fi
  ok "PostgreSQL node $n ($STACK) running"
}

pg_node_promote() {
  local n
  n="$(cluster_node_arg ${#PG_CLUSTER_NODES[@]} "${1:-}")"
  pg_node_running "$n" || die "PostgreSQL node $n ($STACK) is not running"
  pg_node_is_standby "$n" || die "PostgreSQL node $n ($STACK) is no standby"
  info "promoting PostgreSQL node $n ($STACK)"
  pg_on "$n" pg_ctl_ promote -w -t "$CLUSTER_START_TIMEOUT" >/dev/null || die "pg_ctl promote of node $n failed"
  pg_cluster_wait "node $n out of recovery" "$n" eval '[[ "$(pg_node_sql '"$n"' -c "SELECT pg_is_in_recovery()")" == f ]]'
  # Its old primary is gone: a commit must not wait for it.
  pg_node_sql "$n" -q -c 'ALTER SYSTEM RESET synchronous_standby_names' -c 'SELECT pg_reload_conf()' >/dev/null
  pg_cluster_set_marker "$n"
  ok "PostgreSQL node $n ($STACK) is the primary (127.0.0.1:$(node_port "$PG_PORT" "$n")); it commits without a standby until one rejoins"
}

pg_node_rejoin() {
  local n p
  n="$(cluster_node_arg ${#PG_CLUSTER_NODES[@]} "${1:-}")"
  p="$(pg_primary_node)" || die "no primary for node $n to follow"
  [[ "$p" != "$n" ]] || die "PostgreSQL node $n ($STACK) is the primary"
  ensure_stack_dirs
  pg_on "$n" pg_node_stop_
  pg_node_basebackup "$n" "$p"
  pg_standby_up "$n" "$p"
  pg_make_sync "$p" "$n"
  ok "PostgreSQL node $n ($STACK) is node $p's synchronous standby"
}

pg_cluster_status() {
  local n p='' role where
  p="$(pg_primary_node 2>/dev/null)" || p=''
  for n in "${PG_CLUSTER_NODES[@]}"; do
    where="127.0.0.1:$(node_port "$PG_PORT" "$n")"
    if pg_node_running "$n"; then
      if [[ "$n" == "$p" ]]; then
        role="primary"
      elif [[ -n "$p" ]]; then
        role="standby ($(pg_replication_state "$p" "$n" || true))"
        [[ "$role" == "standby ()" ]] && role="standby (not streaming)"
      else
        role="standby"
      fi
      printf '  %-12s running  pid %-7s %s  %s\n' "postgres-$n" "$(pg_on "$n" pg_pid)" "$where" "$role"
    else
      printf '  %-12s stopped\n' "postgres-$n"
    fi
  done
}

# --- Both ------------------------------------------------------------------------------------

cluster_any_running() { pg_cluster_any_running || kafka_cluster_any_running; }

cluster_status() {
  pg_cluster_status
  kafka_cluster_status
}

cluster_stop() {
  kafka_cluster_stop
  pg_cluster_stop
}
