#include "services/api/api_config.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace marketdata {
namespace {

constexpr int64_t kMaxPollingInterval = 86400 * 365;

}  // namespace

const SettingTable<ApiConfig>& ApiSettings() {
  static const auto* const kTable = new SettingTable<ApiConfig>({
      StringSetting("MDS_API_LISTEN", "0.0.0.0:50051", &ApiConfig::listen_address,
                    "gRPC listen address of mds-api (PriceService, PollingService)"),
      StringSetting("MDS_API_METRICS_LISTEN", "0.0.0.0:9101", &ApiConfig::metrics_listen,
                    "Prometheus /metrics listen address of mds-api (\"off\" disables it)"),
      EmbeddedSettings(&ApiConfig::database, DatabaseSettingsTable(16)),
      EmbeddedSettings(&ApiConfig::lifecycle, LifecycleSettingsTable()),
      EmbeddedSettings(&ApiConfig::auth, AuthSettingsTable()),
      EmbeddedSettings(&ApiConfig::tls, ServerTlsSettingsTable()),
      RequiredStringSetting("KAFKA_BOOTSTRAP_SERVERS", &ApiConfig::kafka_bootstrap_servers,
                            "Kafka brokers, comma-separated host:port"),
      KeyValueSetting("KAFKA_CONFIG", &ApiConfig::kafka_config,
                      "more librdkafka properties for every Kafka client, key=value pairs "
                      "separated by ';', e.g. security.protocol=SASL_SSL;sasl.mechanism=PLAIN;"
                      "sasl.username=u;sasl.password=p;ssl.ca.location=/etc/ca.pem"),
      StringSetting("KAFKA_TOPIC_PRICE_EVENTS", "price-events", &ApiConfig::price_events_topic,
                    "topic every stored price is published to, keyed by symbol"),
      EmbeddedSettings(&ApiConfig::providers, ProviderSettingsTable()),
      IntSetting("PROVIDER_FETCH_THREADS", 32, 1, 1024, &ApiConfig::provider_fetch_threads,
                 "latest-price requests that may wait on each network provider at once; more "
                 "queue up, within the provider's timeout"),
      IntSetting("PRICE_WRITE_LINGER_US", 0, 0, 100000, &ApiConfig::price_write_linger_us,
                 "microseconds the price writer waits for more prices before a commit, only "
                 "while requests arrive concurrently; more prices share each commit (less "
                 "database CPU per price) at the cost of that much latency"),
      IntSetting("MAX_OPEN_STREAMS", 10000, 1, 1000000, &ApiConfig::max_open_streams,
                 "server streams open at once; one more is refused with RESOURCE_EXHAUSTED (HTTP 429)"),
      DoubleSetting("PROVIDER_SHARE_PER_KEY", 0.5, 0.01, 1, &ApiConfig::provider_share_per_key,
                    "share of each provider's rate limit one API key may use, so that one key "
                    "cannot starve the others (with keys required)"),
      EmbeddedSettings(&ApiConfig::log, LogSettingsTable()),
      IntSetting("POLLING_MAX_SYMBOLS", 50, 1, 1000, &ApiConfig::polling_max_symbols,
                 "most symbols one polling job may hold"),
      IntSetting("POLLING_MIN_INTERVAL", 1, 1, kMaxPollingInterval,
                 &ApiConfig::polling_min_interval, "shortest polling interval, in seconds"),
      IntSetting("POLLING_MAX_INTERVAL", 86400, 1, kMaxPollingInterval,
                 &ApiConfig::polling_max_interval,
                 "longest polling interval, in seconds; not below POLLING_MIN_INTERVAL"),
      IntSetting("POLLING_RUNNERS", 16, 1, 1024, &ApiConfig::polling_runners,
                 "polling runs this process executes at once"),
      IntSetting("POLLING_LEASE_SECONDS", 30, 1, 3600, &ApiConfig::polling_lease_seconds,
                 "seconds a replica holds a job it claimed; the jobs of a replica that dies "
                 "are free again after this"),
      StringSetting("POLLING_INSTANCE_ID", "", &ApiConfig::polling_instance_id,
                    "this replica's name on the jobs it leases, unique and stable across "
                    "restarts; empty: <hostname>:<port of MDS_API_LISTEN>"),
  });
  return *kTable;
}

absl::StatusOr<ApiConfig> LoadApiConfig(const Settings& settings) {
  absl::StatusOr<ApiConfig> config = ApiSettings().Load(settings);
  if (!config.ok()) return config;
  ApiConfig& c = *config;
  if (absl::Status s = CheckLifecycleConfig(c.lifecycle); !s.ok()) return s;
  if (c.polling_min_interval > c.polling_max_interval) {
    return absl::InvalidArgumentError(
        "POLLING_MIN_INTERVAL must not be greater than POLLING_MAX_INTERVAL");
  }
  if (c.polling_instance_id.empty()) {
    // Stable across restarts of the same replica, so it resumes the jobs it held at once.
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    const std::string port = c.listen_address.substr(c.listen_address.rfind(':') + 1);
    c.polling_instance_id = absl::StrCat(host, ":", port);
  }
  return config;
}

}  // namespace marketdata
