#include "tests/support/kafka_reader.h"

#include <memory>

#include "absl/time/clock.h"
#include "librdkafka/rdkafkacpp.h"
#include "tests/support/test_env.h"

namespace marketdata::testing {

std::vector<Record> ReadRecords(const std::string& bootstrap, const std::string& topic,
                                size_t count, absl::Duration timeout) {
  std::string error;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", bootstrap, error);
  conf->set("group.id", UniqueName("reader"), error);
  conf->set("auto.offset.reset", "earliest", error);
  conf->set("enable.auto.commit", "false", error);
  conf->set("allow.auto.create.topics", "true", error);
  conf->set("topic.metadata.refresh.interval.ms", "500", error);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(
      RdKafka::KafkaConsumer::create(conf.get(), error));
  std::vector<Record> out;
  if (consumer == nullptr) return out;
  consumer->subscribe({topic});
  const absl::Time deadline = absl::Now() + timeout;
  while (out.size() < count && absl::Now() < deadline) {
    std::unique_ptr<RdKafka::Message> m(consumer->consume(200));
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    Record r;
    if (m->key() != nullptr) r.key = *m->key();
    r.value.assign(static_cast<const char*>(m->payload()), m->len());
    r.partition = m->partition();
    if (RdKafka::Headers* headers = m->headers(); headers != nullptr) {
      for (const RdKafka::Headers::Header& h : headers->get_all()) {
        r.headers[h.key()] = std::string(static_cast<const char*>(h.value()), h.value_size());
      }
    }
    out.push_back(std::move(r));
  }
  consumer->close();
  return out;
}

}  // namespace marketdata::testing
