// Checks shared by the list calls: page sizes and time ranges, with the same messages everywhere.
#ifndef MARKETDATA_SERVICES_COMMON_REQUEST_CHECKS_H_
#define MARKETDATA_SERVICES_COMMON_REQUEST_CHECKS_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace marketdata {

// 0 means `default_limit`; anything outside 1..max_limit is INVALID_ARGUMENT.
inline absl::StatusOr<int> CheckLimit(int limit, int default_limit, int max_limit) {
  if (limit == 0) return default_limit;
  if (limit < 0 || limit > max_limit) {
    return absl::InvalidArgumentError(absl::StrCat("limit must be between 1 and ", max_limit,
                                                   " (0 means ", default_limit, ")"));
  }
  return limit;
}

inline absl::Status CheckTimeRange(const std::optional<absl::Time>& start,
                                   const std::optional<absl::Time>& end) {
  if (start.has_value() && end.has_value() && *start >= *end) {
    return absl::InvalidArgumentError("start_time must be before end_time");
  }
  return absl::OkStatus();
}

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_REQUEST_CHECKS_H_
