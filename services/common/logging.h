// Process-wide logging: one line per event, UTC timestamps, level from LOG_LEVEL.
#ifndef MARKETDATA_SERVICES_COMMON_LOGGING_H_
#define MARKETDATA_SERVICES_COMMON_LOGGING_H_

#include <string>

#include "absl/status/status.h"
#include "spdlog/spdlog.h"

namespace marketdata {

// `level` is one of trace, debug, info, warn, error.
absl::Status InitLogging(const std::string& service_name, const std::string& level);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_LOGGING_H_
