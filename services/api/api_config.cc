#include "services/api/api_config.h"

#include <unistd.h>


#include "absl/strings/str_cat.h"

namespace marketdata {

#define ASSIGN_OR_RETURN_SETTING(lhs, expr) \
  {                                         \
    auto value = (expr);                    \
    if (!value.ok()) return value.status(); \
    lhs = *value;                           \
  }

absl::StatusOr<ApiConfig> LoadApiConfig(Settings& settings) {
  ApiConfig c;
  c.listen_address = settings.GetString("MDS_API_LISTEN", "0.0.0.0:50051");
  c.metrics_listen = settings.GetString("MDS_API_METRICS_LISTEN", "0.0.0.0:9101");
  ASSIGN_OR_RETURN_SETTING(c.database_url, settings.GetRequiredString("DATABASE_URL"));
  ASSIGN_OR_RETURN_SETTING(c.database_pool_size,
                           settings.GetInt("DATABASE_POOL_SIZE", 16, 1, 256));
  ASSIGN_OR_RETURN_SETTING(c.kafka_bootstrap_servers,
                           settings.GetRequiredString("KAFKA_BOOTSTRAP_SERVERS"));
  c.price_events_topic = settings.GetString("KAFKA_TOPIC_PRICE_EVENTS", "price-events");
  c.default_provider = settings.GetString("DEFAULT_PROVIDER", "test");
  ASSIGN_OR_RETURN_SETTING(c.providers, LoadProviderSettings(settings));
  ASSIGN_OR_RETURN_SETTING(c.provider_fetch_threads,
                           settings.GetInt("PROVIDER_FETCH_THREADS", 32, 1, 1024));
  c.log_level = settings.GetString("LOG_LEVEL", "info");
  ASSIGN_OR_RETURN_SETTING(c.polling_max_symbols,
                           settings.GetInt("POLLING_MAX_SYMBOLS", 50, 1, 10000));
  ASSIGN_OR_RETURN_SETTING(c.polling_min_interval,
                           settings.GetInt("POLLING_MIN_INTERVAL", 1, 1, 86400 * 365));
  ASSIGN_OR_RETURN_SETTING(c.polling_max_interval,
                           settings.GetInt("POLLING_MAX_INTERVAL", 86400, 1, 86400 * 365));
  if (c.polling_min_interval > c.polling_max_interval) {
    return absl::InvalidArgumentError(
        "POLLING_MIN_INTERVAL must not be greater than POLLING_MAX_INTERVAL");
  }
  ASSIGN_OR_RETURN_SETTING(c.polling_runners, settings.GetInt("POLLING_RUNNERS", 16, 1, 1024));
  ASSIGN_OR_RETURN_SETTING(c.polling_lease_seconds,
                           settings.GetInt("POLLING_LEASE_SECONDS", 30, 1, 3600));
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  const std::string port = c.listen_address.substr(c.listen_address.rfind(':') + 1);
  c.polling_instance_id = settings.GetString("POLLING_INSTANCE_ID", absl::StrCat(host, ":", port));
  if (absl::Status s = settings.Validate(); !s.ok()) return s;
  return c;
}

#undef ASSIGN_OR_RETURN_SETTING

}  // namespace marketdata
