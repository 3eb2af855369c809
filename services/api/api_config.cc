#include "services/api/api_config.h"

#include <limits>

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
  ASSIGN_OR_RETURN_SETTING(c.database_url, settings.GetRequiredString("DATABASE_URL"));
  ASSIGN_OR_RETURN_SETTING(c.database_pool_size,
                           settings.GetInt("DATABASE_POOL_SIZE", 8, 1, 256));
  ASSIGN_OR_RETURN_SETTING(c.kafka_bootstrap_servers,
                           settings.GetRequiredString("KAFKA_BOOTSTRAP_SERVERS"));
  c.price_events_topic = settings.GetString("KAFKA_TOPIC_PRICE_EVENTS", "price-events");
  c.default_provider = settings.GetString("DEFAULT_PROVIDER", "test");
  if (settings.Find("TEST_PROVIDER_SEED").has_value()) {
    int64_t seed = 0;
    ASSIGN_OR_RETURN_SETTING(
        seed, settings.GetInt("TEST_PROVIDER_SEED", 0, 0, std::numeric_limits<int64_t>::max()));
    c.test_provider_seed = static_cast<uint64_t>(seed);
  } else {
    settings.GetString("TEST_PROVIDER_SEED", "");
  }
  c.log_level = settings.GetString("LOG_LEVEL", "info");
  if (absl::Status s = settings.Validate(); !s.ok()) return s;
  return c;
}

#undef ASSIGN_OR_RETURN_SETTING

}  // namespace marketdata
