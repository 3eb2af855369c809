#include "services/events/kafka_config.h"

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace marketdata {
namespace {

// librdkafka's own log lines, through the process logger (so they are JSON like every other)
// instead of its default "%4|1796109075.773|GETPID|..." lines on stderr. A client that needs more
// (the publisher watches for fatal errors) sets an event_cb of its own over this one.
class KafkaLogLines final : public RdKafka::EventCb {
 public:
  void event_cb(RdKafka::Event& event) override {
    if (event.type() != RdKafka::Event::EVENT_LOG) return;
    if (event.severity() <= RdKafka::Event::EVENT_SEVERITY_WARNING) {
      spdlog::warn("kafka: {}: {}", event.fac(), event.str());
    } else {
      spdlog::debug("kafka: {}: {}", event.fac(), event.str());
    }
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<RdKafka::Conf>> KafkaConf(const KafkaProperties& properties,
                                                         const KafkaProperties& extra) {
  KafkaProperties all = properties;
  for (const auto& [k, v] : extra) all[k] = v;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  static KafkaLogLines* const log_lines = new KafkaLogLines();  // used by clients until exit
  if (conf->set("event_cb", log_lines, error) != RdKafka::Conf::CONF_OK) {
    return absl::InternalError(absl::StrCat("Kafka event_cb: ", error));
  }
  for (const auto& [k, v] : all) {
    if (conf->set(k, v, error) != RdKafka::Conf::CONF_OK) {
      return absl::InvalidArgumentError(absl::StrCat("Kafka setting ", k, ": ", error));
    }
  }
  return conf;
}

std::string KafkaHeader(RdKafka::Message& message, const char* name) {
  RdKafka::Headers* headers = message.headers();
  if (headers == nullptr) return "";
  RdKafka::Headers::Header h = headers->get_last(name);
  if (h.err() != RdKafka::ERR_NO_ERROR || h.value() == nullptr) return "";
  return std::string(static_cast<const char*>(h.value()), h.value_size());
}

}  // namespace marketdata
