// The name a replica goes by where it must be unique among the live replicas and stable across
// its restarts (polling leases, the consumer group's static membership): its host and the port
// it serves on.
#ifndef MARKETDATA_SERVICES_COMMON_CONFIG_INSTANCE_NAME_H_
#define MARKETDATA_SERVICES_COMMON_CONFIG_INSTANCE_NAME_H_

#include <string>

#include "absl/strings/string_view.h"

namespace marketdata {

// The port of a listen address "host:port" (what follows the last ':').
absl::string_view ListenPort(absl::string_view listen_address);

// "<hostname>:<port of listen_address>".
std::string HostAndPort(absl::string_view listen_address);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_CONFIG_INSTANCE_NAME_H_
