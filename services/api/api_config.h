// Configuration of mds-api, read once at start-up (see .env.example for every setting).
#ifndef MARKETDATA_SERVICES_API_API_CONFIG_H_
#define MARKETDATA_SERVICES_API_API_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "services/common/settings.h"

namespace marketdata {

struct ApiConfig {
  std::string listen_address;
  std::string database_url;
  int database_pool_size = 8;
  std::string kafka_bootstrap_servers;
  std::string price_events_topic;
  std::string default_provider;
  std::optional<uint64_t> test_provider_seed;
  std::string log_level;
};

absl::StatusOr<ApiConfig> LoadApiConfig(Settings& settings);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_API_API_CONFIG_H_
