// Configuration of mds-consumer, read once at start-up (see .env.example for every setting).
#ifndef MARKETDATA_SERVICES_CONSUMER_CONSUMER_CONFIG_H_
#define MARKETDATA_SERVICES_CONSUMER_CONSUMER_CONFIG_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/settings.h"

namespace marketdata {

struct ConsumerConfig {
  std::string listen_address;
  std::string metrics_listen;  // "off" disables
  std::string database_url;
  int database_pool_size = 4;
  // Sessions a large batch of averages is written over at once (split by symbol).
  int write_connections = 2;
  std::string kafka_bootstrap_servers;
  std::string price_events_topic;
  std::string dead_letter_topic;
  std::string consumer_group;
  std::vector<int> windows;
  int max_batch = 5000;
  int batch_wait_ms = 5;
  std::string log_level;
};

absl::StatusOr<ConsumerConfig> LoadConsumerConfig(Settings& settings);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_CONSUMER_CONSUMER_CONFIG_H_
