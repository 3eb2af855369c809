// The Kafka plumbing the publisher, the live feed and the consumer share: one way to build a
// client's configuration (the client's own properties, then the operator's KAFKA_CONFIG on top)
// and one way to read a record's header.
#ifndef MARKETDATA_SERVICES_EVENTS_KAFKA_CONFIG_H_
#define MARKETDATA_SERVICES_EVENTS_KAFKA_CONFIG_H_

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "librdkafka/rdkafkacpp.h"

namespace marketdata {

using KafkaProperties = std::map<std::string, std::string>;

// A global configuration with `properties`, then `extra` over them, whose log lines go through
// the process logger. INVALID_ARGUMENT naming the
// property librdkafka refuses (never its value, which may be a password).
absl::StatusOr<std::unique_ptr<RdKafka::Conf>> KafkaConf(const KafkaProperties& properties,
                                                         const KafkaProperties& extra);

// The last value of header `name` of `message`; "" when it has none. (librdkafka parses the
// headers on first access, hence not const.)
std::string KafkaHeader(RdKafka::Message& message, const char* name);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_EVENTS_KAFKA_CONFIG_H_
