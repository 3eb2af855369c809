#!/bin/sh
# The one-shot `kafka-init` service of docker-compose.yml: creates the topics, then exits; the
# services start once it has succeeded.
#   - Without a profile: one replica of each topic, on the one broker.
#   - With --profile replicated (its broker kafka-2 then has a name on the compose network): once
#     the three brokers are registered, three replicas of each topic and min.insync.replicas=2,
#     and so for the internal topics (consumer offsets, transaction state) too, made here before
#     a client has the controller make them with its own defaults (one replica).
# Topics that exist are left as they are: a volume made without the profile keeps one replica
# (this says so; `docker compose down -v` starts afresh).
# Settings: KAFKA_TOPIC_PRICE_EVENTS, KAFKA_TOPIC_DEAD_LETTER, BOOTSTRAP (kafka:9092), KAFKA_BIN.
set -eu

bin="${KAFKA_BIN:-/opt/kafka/bin}"
bootstrap="${BOOTSTRAP:-kafka:9092}"
events="${KAFKA_TOPIC_PRICE_EVENTS:-price-events}"
dlq="${KAFKA_TOPIC_DEAD_LETTER:-price-events-dlq}"

# create TOPIC PARTITIONS REPLICAS [kafka-topics.sh options...]
create() {
  topic=$1 parts=$2 replicas=$3
  shift 3
  "$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --create --if-not-exists \
    --topic "$topic" --partitions "$parts" --replication-factor "$replicas" "$@"
}

if ! { getent hosts kafka-2 || nslookup kafka-2; } >/dev/null 2>&1; then
  create "$events" 6 1
  create "$dlq" 1 1
  exit 0
fi

echo "replicated profile: waiting for 3 brokers"
until [ "$("$bin/kafka-broker-api-versions.sh" --bootstrap-server "$bootstrap" 2>/dev/null | grep -c ' (id: ')" -ge 3 ]; do
  sleep 1
done
create "$events" 6 3 --config min.insync.replicas=2
create "$dlq" 1 3 --config min.insync.replicas=2
# The settings the broker gives these when it makes them itself.
create __consumer_offsets 50 3 --config cleanup.policy=compact --config min.insync.replicas=2 \
  --config segment.bytes=104857600 --config compression.type=producer
create __transaction_state 50 3 --config cleanup.policy=compact --config min.insync.replicas=2 \
  --config segment.bytes=104857600 --config unclean.leader.election.enable=false
for topic in "$events" "$dlq" __consumer_offsets __transaction_state; do
  "$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --describe --topic "$topic" |
    grep -q 'ReplicationFactor: 3' ||
    echo "warning: $topic has fewer than 3 replicas (made before the replicated profile; docker compose down -v starts afresh)" >&2
done
