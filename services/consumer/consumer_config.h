// Configuration of mds-consumer, read once at start-up from the settings table
// ConsumerSettings(), which also writes `mds-consumer --help`.
#ifndef MARKETDATA_SERVICES_CONSUMER_CONSUMER_CONFIG_H_
#define MARKETDATA_SERVICES_CONSUMER_CONSUMER_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/config/settings.h"
#include "services/auth/auth_settings.h"
#include "services/common/grpc/grpc_server.h"
#include "services/common/logging/logging.h"
#include "services/storage/database_settings.h"
#include "services/common/config/settings_table.h"
#include "services/consumer/price_event_consumer.h"

namespace marketdata {

// Defaults live in ConsumerSettings(), not here. The consumer's options are filled by the table
// itself, so main() hands them over as they are.
struct ConsumerConfig {
  std::string listen_address;
  std::string metrics_listen;  // "off" disables
  DatabaseConfig database;
  AuthOptions auth;
  ServerTls tls;
  // KAFKA_BOOTSTRAP_SERVERS, KAFKA_CONFIG, the topics, the group, LATE_PRICE_WINDOW and the
  // batch settings.
  ConsumerOptions kafka;
  // Sessions a large batch of averages is written over at once (split by symbol).
  int write_connections = 0;
  int64_t max_symbol_windows = 0;
  std::vector<int> windows;
  std::vector<int> bar_intervals;  // seconds
  int max_open_streams = 0;
  LogSettings log;
};

// Every setting of mds-consumer, in `--help` order.
const SettingTable<ConsumerConfig>& ConsumerSettings();

absl::StatusOr<ConsumerConfig> LoadConsumerConfig(const Settings& settings);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_CONSUMER_CONSUMER_CONFIG_H_
