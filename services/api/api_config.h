// Configuration of mds-api, read once at start-up from the settings table ApiSettings(), which
// also writes `mds-api --help`.
#ifndef MARKETDATA_SERVICES_API_API_CONFIG_H_
#define MARKETDATA_SERVICES_API_API_CONFIG_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "services/common/settings.h"
#include "services/auth/auth_settings.h"
#include "services/common/grpc_server.h"
#include "services/common/logging.h"
#include "services/lifecycle/lifecycle_settings.h"
#include "services/storage/database_settings.h"
#include "services/common/settings_table.h"
#include "services/providers/provider_factory.h"

namespace marketdata {

// Defaults live in ApiSettings(), not here.
struct ApiConfig {
  std::string listen_address;
  std::string metrics_listen;  // "off" disables
  DatabaseConfig database;
  LifecycleConfig lifecycle;  // time partitions and retention
  AuthOptions auth;
  ServerTls tls;
  std::string kafka_bootstrap_servers;
  std::map<std::string, std::string> kafka_config;  // more librdkafka properties
  std::string price_events_topic;
  ProviderSettings providers;  // DEFAULT_PROVIDER and every provider's settings
  // Threads for GetLatestPrice's calls to network providers (at most this many wait at once).
  int provider_fetch_threads = 0;
  // How long the price writer waits for more prices while requests are concurrent.
  int price_write_linger_us = 0;
  // Share of each provider's rate limit one API key may use.
  double provider_share_per_key = 0;
  int max_open_streams = 0;
  LogSettings log;
  // Polling.
  int polling_max_symbols = 0;
  int polling_min_interval = 0;
  int polling_max_interval = 0;
  int polling_runners = 0;
  int polling_lease_seconds = 0;
  std::string polling_instance_id;  // default: <hostname>:<listen port>
};

// Every setting of mds-api, the provider settings included, in `--help` order.
const SettingTable<ApiConfig>& ApiSettings();

// ApiSettings().Load(settings), then the checks that span settings
// (POLLING_MIN_INTERVAL <= POLLING_MAX_INTERVAL) and the computed default of POLLING_INSTANCE_ID.
absl::StatusOr<ApiConfig> LoadApiConfig(const Settings& settings);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_API_API_CONFIG_H_
