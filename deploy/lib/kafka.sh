# A single-node Kafka broker per stack (KRaft: broker and controller in one JVM), run from the
# jars that install.sh fetched. Data, config and log live in the stack's folder in the clone.
# shellcheck shell=bash

KAFKA_TOPICS=("price-events:6" "price-events-dlq:1")
KAFKA_HEAP_OPTS=(-Xmx512m -Xms256m)

kafka_cp() { printf '%s/*' "$KAFKA_LIB_DIR"; }

kafka_java() { java -cp "$(kafka_cp)" -Dlog4j.configuration="file:$KAFKA_DIR/tools-log4j.properties" "$@"; }

# Identifies this stack's broker among processes: its own config file.
kafka_pattern() { printf '%s' "$KAFKA_DIR/server.properties"; }

kafka_running() { pid_alive "$KAFKA_PID" "$(kafka_pattern)"; }

kafka_ready() { kcat -b "$KAFKA_BOOTSTRAP_STACK" -L -m 3 >/dev/null 2>&1; }

kafka_write_config() {
  mkdir -p "$KAFKA_DIR/data"
  {
    cat <<PROPS
# Written by deploy/lib/kafka.sh for the $STACK stack; rewritten at every start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
default.replication.factor=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
PROPS
    kafka_shared_properties
  } >"$KAFKA_DIR/server.properties"
  kafka_write_log4j "$KAFKA_DIR"
}

# kafka_shared_properties: the server.properties lines of every broker, single or one node of
# the replicated layout (cluster.sh): listeners on this node's ports, data in its folder, and
# the tuning for a small shared machine.
kafka_shared_properties() {
  cat <<PROPS
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DIR/data
num.partitions=6
offsets.topic.num.partitions=6
group.initial.rebalance.delay.ms=0
# Few threads: two cores are shared with PostgreSQL, the services and the build.
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
log.retention.hours=168
log.segment.bytes=67108864
PROPS
}

# kafka_write_log4j DIR: the broker's log4j.properties and the tools' tools-log4j.properties.
kafka_write_log4j() {
  cat >"$1/log4j.properties" <<'PROPS'
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
# One line when the broker is up, so the log shows each start.
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
PROPS
  cat >"$1/tools-log4j.properties" <<'PROPS'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
PROPS
}

# KRaft storage is formatted once per data folder, with a fresh cluster id.
kafka_format() {
  [[ -f "$KAFKA_DIR/data/meta.properties" ]] && return 0
  local id
  id="$(kafka_java kafka.tools.StorageTool random-uuid)" || die "kafka StorageTool random-uuid failed"
  info "formatting Kafka storage ($STACK, cluster id $id)"
  kafka_java kafka.tools.StorageTool format --cluster-id="$id" -c "$KAFKA_DIR/server.properties" >>"$KAFKA_LOG" 2>&1 ||
    { show_log_tail "$KAFKA_LOG"; die "kafka storage format failed"; }
}

kafka_start() {
  ensure_stack_dirs
  if kafka_running; then
    ok "Kafka ($STACK) already running (pid $(pid_of "$KAFKA_PID"), $KAFKA_BOOTSTRAP_STACK)"
  else
    [[ -d "$KAFKA_LIB_DIR" ]] || die "Kafka jars missing in $KAFKA_LIB_DIR (run ./deploy/dev install)"
    local port setting
    for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
      setting=''
      if [[ "$STACK" == dev ]]; then
        setting=DEV_KAFKA_PORT
        [[ "$port" == "$KAFKA_CONTROLLER_PORT" ]] && setting=DEV_KAFKA_CONTROLLER_PORT
      fi
      port_listening "$port" && die_port_taken "Kafka ($STACK)" "$port" "$setting"
    done
    kafka_write_config
    kafka_format
    info "starting Kafka ($STACK) on $KAFKA_BOOTSTRAP_STACK"
    start_detached "$KAFKA_PID" "$KAFKA_LOG" \
      java "${KAFKA_HEAP_OPTS[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
        -Dlog4j.configuration="file:$KAFKA_DIR/log4j.properties" \
        -cp "$(kafka_cp)" kafka.Kafka "$KAFKA_DIR/server.properties"
    UP_STARTED+=(kafka)
    wait_until "Kafka ($STACK)" 90 "$KAFKA_LOG" kafka_running kafka_ready
  fi
  kafka_create_topics
  ok "Kafka ($STACK) ready: $KAFKA_BOOTSTRAP_STACK"
}

kafka_create_topics() {
  local existing spec topic parts
  existing="$(kcat -b "$KAFKA_BOOTSTRAP_STACK" -L -m 5 2>/dev/null | sed -n 's/^  topic "\([^"]*\)".*/\1/p')"
  for spec in "${KAFKA_TOPICS[@]}"; do
    topic="${spec%%:*}" parts="${spec##*:}"
    grep -qxF "$topic" <<<"$existing" && continue
    info "creating topic $topic ($parts partitions)"
    kafka_java org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BOOTSTRAP_STACK" \
      --create --if-not-exists --topic "$topic" --partitions "$parts" --replication-factor 1 >/dev/null ||
      die "could not create topic $topic"
  done
}

kafka_stop() { stop_pid "Kafka ($STACK)" "$KAFKA_PID" "$(kafka_pattern)" 60; }

kafka_wipe() {
  kafka_stop
  rm -rf "$KAFKA_DIR"
}

kafka_status() {
  if kafka_running; then
    printf '  %-12s running  pid %-7s %s\n' kafka "$(pid_of "$KAFKA_PID")" "$KAFKA_BOOTSTRAP_STACK"
  else
    printf '  %-12s stopped\n' kafka
  fi
}
