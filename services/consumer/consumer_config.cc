#include "services/consumer/consumer_config.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/bars/bars.h"
#include "services/common/config/instance_name.h"
#include "services/lifecycle/lifecycle_settings.h"

namespace marketdata {
namespace {

// (`Options` is taken from `member` alone, so that the rows may be listed in braces.)
template <typename T>
struct Identity {
  using type = T;
};

// Rows that fill the options struct `member` of ConsumerConfig, at this place of the table.
template <typename Options>
SettingRows<ConsumerConfig> Into(
    Options ConsumerConfig::*member,
    std::initializer_list<SettingRows<typename Identity<Options>::type>> rows) {
  return EmbeddedSettings(member, SettingTable<Options>(rows));
}

}  // namespace

const SettingTable<ConsumerConfig>& ConsumerSettings() {
  static const auto* const kTable = new SettingTable<ConsumerConfig>({
      StringSetting("MDS_CONSUMER_LISTEN", "0.0.0.0:50052", &ConsumerConfig::listen_address,
                    "gRPC listen address of mds-consumer (MovingAverageService, BarService)"),
      StringSetting("MDS_CONSUMER_METRICS_LISTEN", "0.0.0.0:9102",
                    &ConsumerConfig::metrics_listen,
                    "Prometheus /metrics listen address of mds-consumer (\"off\" disables it)"),
      EmbeddedSettings(&ConsumerConfig::database, DatabaseSettingsTable(6)),
      EmbeddedSettings(&ConsumerConfig::auth, AuthSettingsTable()),
      EmbeddedSettings(&ConsumerConfig::tls, ServerTlsSettingsTable()),
      Into(&ConsumerConfig::kafka,
           {
               RequiredStringSetting("KAFKA_BOOTSTRAP_SERVERS",
                                     &ConsumerOptions::bootstrap_servers,
                                     "Kafka brokers, comma-separated host:port"),
               KeyValueSetting("KAFKA_CONFIG", &ConsumerOptions::extra,
                               "more librdkafka properties for every Kafka client, key=value "
                               "pairs separated by ';', e.g. security.protocol=SASL_SSL;"
                               "sasl.mechanism=PLAIN;sasl.username=u;sasl.password=p;"
                               "ssl.ca.location=/etc/ca.pem"),
               StringSetting("KAFKA_TOPIC_PRICE_EVENTS", "price-events", &ConsumerOptions::topic,
                             "topic of the price events the moving averages are computed from"),
               StringSetting("KAFKA_TOPIC_DEAD_LETTER", "price-events-dlq",
                             &ConsumerOptions::dead_letter_topic,
                             "topic the consumer parks messages it cannot decode or process in"),
               StringSetting("KAFKA_CONSUMER_GROUP", "moving-average-consumer",
                             &ConsumerOptions::group,
                             "consumer group; every member shares the partitions of the price "
                             "events topic"),
               StringSetting("KAFKA_CONSUMER_INSTANCE_ID", "", &ConsumerOptions::instance_id,
                             "this member's static name in the group (group.instance.id): a "
                             "restarted member gets its partitions back at once; empty: "
                             "<hostname>:<gRPC port> (a port chosen at start, 0, or 'none': a "
                             "dynamic member)"),
               LatePriceWindowSetting(&ConsumerOptions::late_window),
           }),
      IntListSetting("MOVING_AVERAGE_WINDOWS", "5", 1, 10000, &ConsumerConfig::windows,
                     "moving-average windows computed, comma-separated sizes such as 5,20,50"),
      CustomSetting<ConsumerConfig>(
          "BAR_INTERVALS", "1m,5m,1h",
          [](const std::string& name, const std::string& value, ConsumerConfig& config) {
            config.bar_intervals.clear();
            for (absl::string_view part : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
              absl::StatusOr<int> seconds = ParseBarInterval(absl::StripAsciiWhitespace(part));
              if (!seconds.ok()) {
                return absl::InvalidArgumentError(
                    absl::StrCat(name, ": ", seconds.status().message()));
              }
              if (std::find(config.bar_intervals.begin(), config.bar_intervals.end(), *seconds) ==
                  config.bar_intervals.end()) {
                config.bar_intervals.push_back(*seconds);
              }
            }
            if (config.bar_intervals.empty()) {
              return absl::InvalidArgumentError(absl::StrCat(name, " must not be empty"));
            }
            return absl::OkStatus();
          },
          "OHLCV bar intervals computed, comma-separated (s, m, h or d, at most 1d); the first is "
          "the default of the bar calls"),
      Into(&ConsumerConfig::kafka,
           {
               CustomSetting<ConsumerOptions>(
                   "KAFKA_CONSUMER_MAX_BATCH", "20000",
                   [](const std::string& name, const std::string& value,
                      ConsumerOptions& options) {
                     absl::StatusOr<int64_t> records = ParseIntSetting(name, value, 1, 1000000);
                     if (!records.ok()) return records.status();
                     options.max_batch = static_cast<size_t>(*records);
                     return absl::OkStatus();
                   },
                   absl::StrCat("most records averaged and committed in one transaction (",
                                RangeText(1, 1000000), ")")),
               MillisecondsSetting("KAFKA_CONSUMER_BATCH_WAIT_MS", 5, 0, 10000,
                                   &ConsumerOptions::batch_wait,
                                   "milliseconds a batch is gathered before it is committed, "
                                   "latency traded for batch size"),
           }),
      IntSetting("MOVING_AVERAGE_WRITE_CONNECTIONS", 2, 1, 64,
                 &ConsumerConfig::write_connections,
                 "sessions a large batch of averages is written over at once, split by symbol, "
                 "so a backlog uses several database cores"),
      IntSetting("MOVING_AVERAGE_MAX_SYMBOLS", 100000, 1, 100000000,
                 &ConsumerConfig::max_symbol_windows,
                 "symbols whose recent prices are kept in memory; the least recently seen is "
                 "dropped beyond this and read back from PostgreSQL when it returns"),
      IntSetting("MAX_OPEN_STREAMS", 10000, 1, 1000000, &ConsumerConfig::max_open_streams,
                 "server streams open at once; one more is refused with RESOURCE_EXHAUSTED (HTTP 429)"),
      EmbeddedSettings(&ConsumerConfig::log, LogSettingsTable()),
  });
  return *kTable;
}

absl::StatusOr<ConsumerConfig> LoadConsumerConfig(const Settings& settings) {
  absl::StatusOr<ConsumerConfig> config = ConsumerSettings().Load(settings);
  if (!config.ok()) return config;
  std::string& id = config->kafka.instance_id;
  if (id == "none") {
    id.clear();
  } else if (id.empty()) {
    // A port picked at start is not stable across restarts, so such a member stays dynamic.
    if (ListenPort(config->listen_address) != "0") id = HostAndPort(config->listen_address);
  }
  return config;
}

}  // namespace marketdata
