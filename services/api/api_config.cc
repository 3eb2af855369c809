#include "services/api/api_config.h"

#include "absl/strings/str_cat.h"
#include "services/common/config/instance_name.h"

namespace marketdata {
namespace {

constexpr int64_t kMaxPollingInterval = 86400 * 365;

// Rows that fill the options struct `member` of ApiConfig, at this place of the table.
// (`Options` is taken from `member` alone, so that the rows may be listed in braces.)
template <typename T>
struct Identity {
  using type = T;
};
template <typename Options>
SettingRows<ApiConfig> Into(
    Options ApiConfig::*member,
    std::initializer_list<SettingRows<typename Identity<Options>::type>> rows) {
  return EmbeddedSettings(member, SettingTable<Options>(rows));
}

// A whole number of `unit`s in [min, max] into a duration, shown in --help like IntSetting.
template <typename Options>
SettingRow<Options> WholeUnitsSetting(std::string name, int64_t default_value, int64_t min,
                                      int64_t max, absl::Duration unit,
                                      absl::Duration Options::*field,
                                      const std::string& meaning) {
  return CustomSetting<Options>(
      std::move(name), absl::StrCat(default_value),
      [=](const std::string& name, const std::string& value, Options& options) {
        absl::StatusOr<int64_t> parsed = ParseIntSetting(name, value, min, max);
        if (!parsed.ok()) return parsed.status();
        options.*field = unit * *parsed;
        return absl::OkStatus();
      },
      absl::StrCat(meaning, " (", RangeText(static_cast<double>(min), static_cast<double>(max)),
                   ")"));
}

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
      Into(&ApiConfig::kafka,
           {
               RequiredStringSetting("KAFKA_BOOTSTRAP_SERVERS",
                                     &KafkaPublisherOptions::bootstrap_servers,
                                     "Kafka brokers, comma-separated host:port"),
               KeyValueSetting("KAFKA_CONFIG", &KafkaPublisherOptions::extra,
                               "more librdkafka properties for every Kafka client, key=value "
                               "pairs separated by ';', e.g. security.protocol=SASL_SSL;"
                               "sasl.mechanism=PLAIN;sasl.username=u;sasl.password=p;"
                               "ssl.ca.location=/etc/ca.pem"),
               StringSetting("KAFKA_TOPIC_PRICE_EVENTS", "price-events",
                             &KafkaPublisherOptions::topic,
                             "topic every stored price is published to, keyed by symbol"),
           }),
      EmbeddedSettings(&ApiConfig::providers, ProviderSettingsTable()),
      Into(&ApiConfig::fetch_lanes,
           {
               CustomSetting<FetchLaneOptions>(
                   "PROVIDER_FETCH_THREADS", "32",
                   [](const std::string& name, const std::string& value,
                      FetchLaneOptions& lanes) {
                     absl::StatusOr<int64_t> threads = ParseIntSetting(name, value, 1, 1024);
                     if (!threads.ok()) return threads.status();
                     lanes.threads = static_cast<int>(*threads);
                     lanes.max_queued = kQueuedFetchesPerThread * static_cast<size_t>(*threads);
                     return absl::OkStatus();
                   },
                   absl::StrCat("latest-price requests that may wait on each network provider "
                                "at once; more queue up, within the provider's timeout (",
                                RangeText(1, 1024), ")")),
           }),
      Into(&ApiConfig::writes,
           {
               WholeUnitsSetting("PRICE_WRITE_LINGER_US", 0, 0, 100000, absl::Microseconds(1),
                                 &PriceWriterOptions::linger,
                                 "microseconds the price writer waits for more prices before a "
                                 "commit, only while requests arrive concurrently; more prices "
                                 "share each commit (less database CPU per price) at the cost of "
                                 "that much latency"),
           }),
      IntSetting("MAX_OPEN_STREAMS", 10000, 1, 1000000, &ApiConfig::max_open_streams,
                 "server streams open at once; one more is refused with RESOURCE_EXHAUSTED (HTTP 429)"),
      DoubleSetting("PROVIDER_SHARE_PER_KEY", 0.5, 0.01, 1, &ApiConfig::provider_share_per_key,
                    "share of each provider's rate limit one API key may use, so that one key "
                    "cannot starve the others (with keys required)"),
      EmbeddedSettings(&ApiConfig::log, LogSettingsTable()),
      Into(&ApiConfig::polling_limits,
           {
               IntSetting("POLLING_MAX_SYMBOLS", 50, 1, 1000, &PollingLimits::max_symbols,
                          "most symbols one polling job may hold"),
               IntSetting("POLLING_MIN_INTERVAL", 1, 1, kMaxPollingInterval,
                          &PollingLimits::min_interval_seconds,
                          "shortest polling interval, in seconds"),
               IntSetting("POLLING_MAX_INTERVAL", 86400, 1, kMaxPollingInterval,
                          &PollingLimits::max_interval_seconds,
                          "longest polling interval, in seconds; not below POLLING_MIN_INTERVAL"),
           }),
      Into(&ApiConfig::scheduling,
           {
               IntSetting("POLLING_RUNNERS", 16, 1, 1024, &SchedulerOptions::runners,
                          "polling runs this process executes at once"),
               WholeUnitsSetting("POLLING_LEASE_SECONDS", 30, 1, 3600, absl::Seconds(1),
                                 &SchedulerOptions::lease,
                                 "seconds a replica holds a job it claimed; the jobs of a replica "
                                 "that dies are free again after this"),
               StringSetting("POLLING_INSTANCE_ID", "", &SchedulerOptions::instance_id,
                             "this replica's name on the jobs it leases, unique and stable "
                             "across restarts; empty: <hostname>:<port of MDS_API_LISTEN>"),
           }),
  });
  return *kTable;
}

absl::StatusOr<ApiConfig> LoadApiConfig(const Settings& settings) {
  absl::StatusOr<ApiConfig> config = ApiSettings().Load(settings);
  if (!config.ok()) return config;
  ApiConfig& c = *config;
  if (absl::Status s = CheckLifecycleConfig(c.lifecycle); !s.ok()) return s;
  if (c.polling_limits.min_interval_seconds > c.polling_limits.max_interval_seconds) {
    return absl::InvalidArgumentError(
        "POLLING_MIN_INTERVAL must not be greater than POLLING_MAX_INTERVAL");
  }
  if (c.scheduling.instance_id.empty()) {
    // Stable across restarts of the same replica, so it resumes the jobs it held at once.
    c.scheduling.instance_id = HostAndPort(c.listen_address);
  }
  // A fetch that waited in its lane past this is answered 503 without calling the provider.
  c.fetch_lanes.budget = c.providers.call_budget();
  return config;
}

}  // namespace marketdata
