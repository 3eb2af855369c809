// Configuration of mds-api, read once at start-up (see .env.example for every setting).
#ifndef MARKETDATA_SERVICES_API_API_CONFIG_H_
#define MARKETDATA_SERVICES_API_API_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "services/common/settings.h"
#include "services/providers/provider_factory.h"

namespace marketdata {

struct ApiConfig {
  std::string listen_address;
  std::string metrics_listen;  // "off" disables
  std::string database_url;
  int database_pool_size = 16;
  std::string kafka_bootstrap_servers;
  std::string price_events_topic;
  std::string default_provider;
  ProviderSettings providers;
  // Threads for GetLatestPrice's calls to network providers (at most this many wait at once).
  int provider_fetch_threads = 32;
  std::string log_level;
  // Polling.
  int polling_max_symbols = 50;
  int polling_min_interval = 1;
  int polling_max_interval = 86400;
  int polling_runners = 16;
  int polling_lease_seconds = 30;
  std::string polling_instance_id;  // default: <hostname>:<listen port>
};

absl::StatusOr<ApiConfig> LoadApiConfig(Settings& settings);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_API_API_CONFIG_H_
