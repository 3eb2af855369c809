// Configuration of mds-api, read once at start-up from the settings table ApiSettings(), which
// also writes `mds-api --help`.
#ifndef MARKETDATA_SERVICES_API_API_CONFIG_H_
#define MARKETDATA_SERVICES_API_API_CONFIG_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "services/common/config/settings.h"
#include "services/auth/auth_settings.h"
#include "services/common/grpc/grpc_server.h"
#include "services/common/logging/logging.h"
#include "services/lifecycle/lifecycle_settings.h"
#include "services/storage/database_settings.h"
#include "services/common/config/settings_table.h"
#include "services/events/kafka_publisher.h"
#include "services/polling/job_rules.h"
#include "services/polling/scheduler.h"
#include "services/pricing/fetch_lanes.h"
#include "services/providers/provider_factory.h"
#include "services/storage/price_writer.h"

namespace marketdata {

// Defaults live in ApiSettings(), not here. The options of each part are filled by the table
// itself, so main() hands them over as they are.
struct ApiConfig {
  std::string listen_address;
  std::string metrics_listen;  // "off" disables
  DatabaseConfig database;
  LifecycleConfig lifecycle;  // time partitions and retention
  AuthOptions auth;
  ServerTls tls;
  // KAFKA_BOOTSTRAP_SERVERS, KAFKA_CONFIG and KAFKA_TOPIC_PRICE_EVENTS; the live feed reads the
  // same brokers and topic.
  KafkaPublisherOptions kafka;
  ProviderSettings providers;  // DEFAULT_PROVIDER and every provider's settings
  // PROVIDER_FETCH_THREADS, the queue that follows from it (kQueuedFetchesPerThread a thread),
  // and the providers' whole-call budget.
  FetchLaneOptions fetch_lanes;
  PriceWriterOptions writes;  // PRICE_WRITE_LINGER_US
  // Share of each provider's rate limit one API key may use.
  double provider_share_per_key = 0;
  int max_open_streams = 0;
  LogSettings log;
  PollingLimits polling_limits;  // POLLING_MAX_SYMBOLS, POLLING_{MIN,MAX}_INTERVAL
  // POLLING_RUNNERS, POLLING_LEASE_SECONDS and POLLING_INSTANCE_ID (default:
  // <hostname>:<listen port>).
  SchedulerOptions scheduling;
};

// Fetches that may wait in a provider's lane per thread of it; beyond that a request is answered
// "busy" (503) at once rather than wait past its budget.
inline constexpr size_t kQueuedFetchesPerThread = 32;

// Every setting of mds-api, the provider settings included, in `--help` order.
const SettingTable<ApiConfig>& ApiSettings();

// ApiSettings().Load(settings), then the checks and values that span settings:
// POLLING_MIN_INTERVAL <= POLLING_MAX_INTERVAL, the default of POLLING_INSTANCE_ID, and the
// fetch lanes' budget (a provider call with its retries).
absl::StatusOr<ApiConfig> LoadApiConfig(const Settings& settings);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_API_API_CONFIG_H_
