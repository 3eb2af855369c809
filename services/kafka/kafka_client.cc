#include "services/kafka/kafka_client.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "spdlog/spdlog.h"

namespace marketdata {

KafkaProperties EffectiveProperties(const KafkaClientSpec& spec) {
  // librdkafka's reconnect backoff grows to 10 s while a broker is away, so after an outage the
  // first message could wait up to 10 s past the broker's return; a try a second costs nothing.
  KafkaProperties all = {{"reconnect.backoff.max.ms", "1000"}};
  for (const auto& [k, v] : spec.properties) all[k] = v;
  for (const auto& [k, v] : spec.extra) all[k] = v;
  return all;
}

namespace {

absl::StatusOr<std::unique_ptr<RdKafka::Conf>> MakeConf(const KafkaClientSpec& spec) {
  const KafkaProperties all = EffectiveProperties(spec);
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string error;
  static KafkaLogLines* const log_lines = new KafkaLogLines();  // used by clients until exit
  RdKafka::EventCb* events = spec.events != nullptr ? spec.events : log_lines;
  if (conf->set("event_cb", events, error) != RdKafka::Conf::CONF_OK ||
      (spec.deliveries != nullptr &&
       conf->set("dr_cb", spec.deliveries, error) != RdKafka::Conf::CONF_OK) ||
      (spec.rebalances != nullptr &&
       conf->set("rebalance_cb", spec.rebalances, error) != RdKafka::Conf::CONF_OK)) {
    return absl::InternalError(absl::StrCat("Kafka ", spec.role, " callbacks: ", error));
  }
  for (const auto& [k, v] : all) {
    if (conf->set(k, v, error) != RdKafka::Conf::CONF_OK) {
      return absl::InvalidArgumentError(absl::StrCat("Kafka setting ", k, ": ", error));
    }
  }
  return conf;
}

std::string Servers(const KafkaClientSpec& spec) {
  auto it = spec.properties.find("bootstrap.servers");
  return it == spec.properties.end() ? "" : it->second;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RdKafka::Producer>> MakeProducer(const KafkaClientSpec& spec) {
  absl::StatusOr<std::unique_ptr<RdKafka::Conf>> conf = MakeConf(spec);
  if (!conf.ok()) return conf.status();
  std::string error;
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(conf->get(), error));
  if (producer == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("cannot create the Kafka ", spec.role,
                                                   " for KAFKA_BOOTSTRAP_SERVERS=",
                                                   Servers(spec), ": ", error));
  }
  return producer;
}

absl::StatusOr<std::unique_ptr<RdKafka::KafkaConsumer>> MakeConsumer(
    const KafkaClientSpec& spec, const std::vector<std::string>& topics) {
  absl::StatusOr<std::unique_ptr<RdKafka::Conf>> conf = MakeConf(spec);
  if (!conf.ok()) return conf.status();
  std::string error;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf->get(), error));
  if (consumer == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("cannot create the Kafka ", spec.role,
                                                   " for KAFKA_BOOTSTRAP_SERVERS=",
                                                   Servers(spec), ": ", error));
  }
  if (RdKafka::ErrorCode err = consumer->subscribe(topics); err != RdKafka::ERR_NO_ERROR) {
    return absl::UnavailableError(absl::StrCat("the Kafka ", spec.role, " cannot subscribe to ",
                                               absl::StrJoin(topics, ","), ": ",
                                               RdKafka::err2str(err)));
  }
  return consumer;
}

void KafkaLogLines::event_cb(RdKafka::Event& event) {
  if (event.type() != RdKafka::Event::EVENT_LOG) return;
  if (event.severity() <= RdKafka::Event::EVENT_SEVERITY_WARNING) {
    spdlog::warn("kafka: {}: {}", event.fac(), event.str());
  } else {
    spdlog::debug("kafka: {}: {}", event.fac(), event.str());
  }
}

std::string KafkaHeader(RdKafka::Message& message, const char* name) {
  RdKafka::Headers* headers = message.headers();
  if (headers == nullptr) return "";
  RdKafka::Headers::Header h = headers->get_last(name);
  if (h.err() != RdKafka::ERR_NO_ERROR || h.value() == nullptr) return "";
  return std::string(static_cast<const char*>(h.value()), h.value_size());
}

}  // namespace marketdata
