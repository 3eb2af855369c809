#include "services/consumer/consumer_config.h"

namespace marketdata {

absl::StatusOr<ConsumerConfig> LoadConsumerConfig(Settings& settings) {
  ConsumerConfig c;
  c.listen_address = settings.GetString("MDS_CONSUMER_LISTEN", "0.0.0.0:50052");
  c.metrics_listen = settings.GetString("MDS_CONSUMER_METRICS_LISTEN", "0.0.0.0:9102");
  absl::StatusOr<std::string> database_url = settings.GetRequiredString("DATABASE_URL");
  if (!database_url.ok()) return database_url.status();
  c.database_url = *database_url;
  absl::StatusOr<int64_t> pool = settings.GetInt("DATABASE_POOL_SIZE", 4, 1, 256);
  if (!pool.ok()) return pool.status();
  c.database_pool_size = static_cast<int>(*pool);
  absl::StatusOr<std::string> kafka = settings.GetRequiredString("KAFKA_BOOTSTRAP_SERVERS");
  if (!kafka.ok()) return kafka.status();
  c.kafka_bootstrap_servers = *kafka;
  c.price_events_topic = settings.GetString("KAFKA_TOPIC_PRICE_EVENTS", "price-events");
  c.dead_letter_topic = settings.GetString("KAFKA_TOPIC_DEAD_LETTER", "price-events-dlq");
  c.consumer_group = settings.GetString("KAFKA_CONSUMER_GROUP", "moving-average-consumer");
  absl::StatusOr<std::vector<int>> windows =
      settings.GetIntList("MOVING_AVERAGE_WINDOWS", "5", 1, 10000);
  if (!windows.ok()) return windows.status();
  c.windows = *windows;
  absl::StatusOr<int64_t> max_batch = settings.GetInt("KAFKA_CONSUMER_MAX_BATCH", 5000, 1, 1000000);
  if (!max_batch.ok()) return max_batch.status();
  c.max_batch = static_cast<int>(*max_batch);
  absl::StatusOr<int64_t> wait = settings.GetInt("KAFKA_CONSUMER_BATCH_WAIT_MS", 5, 0, 10000);
  if (!wait.ok()) return wait.status();
  c.batch_wait_ms = static_cast<int>(*wait);
  absl::StatusOr<int64_t> writers = settings.GetInt("MOVING_AVERAGE_WRITE_CONNECTIONS", 2, 1, 64);
  if (!writers.ok()) return writers.status();
  c.write_connections = static_cast<int>(*writers);
  c.log_level = settings.GetString("LOG_LEVEL", "info");
  if (absl::Status s = settings.Validate(); !s.ok()) return s;
  return c;
}

}  // namespace marketdata
