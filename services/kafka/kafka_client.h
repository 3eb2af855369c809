// The one place Kafka clients are made. A client is described by a KafkaClientSpec: its own
// properties, the operator's KAFKA_CONFIG over them, and the callbacks it needs; MakeProducer and
// MakeConsumer build the configuration, create the client and (consumers) subscribe, with the
// same errors for every client. The publisher, the live feed, the consumer and its dead-letter
// producer are all made here. Knows nothing of prices: see services/events for what travels.
#ifndef MARKETDATA_SERVICES_KAFKA_KAFKA_CLIENT_H_
#define MARKETDATA_SERVICES_KAFKA_KAFKA_CLIENT_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "librdkafka/rdkafkacpp.h"

namespace marketdata {

using KafkaProperties = std::map<std::string, std::string>;

struct KafkaClientSpec {
  // Names the client in errors ("price feed", ...).
  std::string role;
  // The client's own properties, then `extra` (KAFKA_CONFIG: security settings, for example)
  // over them.
  KafkaProperties properties;
  KafkaProperties extra;
  // Not owned; each must outlive the client. Without `events`, librdkafka's log lines go through
  // the process logger (JSON like every other line).
  RdKafka::EventCb* events = nullptr;
  RdKafka::DeliveryReportCb* deliveries = nullptr;  // producers
  RdKafka::RebalanceCb* rebalances = nullptr;       // consumers
};

// What a client is configured with: the settings every client shares (a lost broker is tried
// again at least every second), the client's own properties over them, then `extra`.
KafkaProperties EffectiveProperties(const KafkaClientSpec& spec);

// INVALID_ARGUMENT naming the property librdkafka refuses (never its value, which may be a
// password) or why the client could not be made.
absl::StatusOr<std::unique_ptr<RdKafka::Producer>> MakeProducer(const KafkaClientSpec& spec);

// As MakeProducer, then subscribed to `topics` (UNAVAILABLE if that fails).
absl::StatusOr<std::unique_ptr<RdKafka::KafkaConsumer>> MakeConsumer(
    const KafkaClientSpec& spec, const std::vector<std::string>& topics);

// librdkafka's log lines through the process logger: warnings and worse at warn, the rest at
// debug. A client that needs more of its events derives from this and calls it for the logs.
class KafkaLogLines : public RdKafka::EventCb {
 public:
  void event_cb(RdKafka::Event& event) override;
};

// The last value of header `name` of `message`; "" when it has none. (librdkafka parses the
// headers on first access, hence not const.)
std::string KafkaHeader(RdKafka::Message& message, const char* name);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_KAFKA_KAFKA_CLIENT_H_
