#include "services/events/kafka_config.h"

#include "absl/strings/str_cat.h"

namespace marketdata {

absl::StatusOr<std::unique_ptr<RdKafka::Conf>> KafkaConf(const KafkaProperties& properties,
                                                         const KafkaProperties& extra) {
  KafkaProperties all = properties;
  for (const auto& [k, v] : extra) all[k] = v;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
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
