// Checks shared by the list calls: page sizes and time ranges, with the same messages everywhere.
#ifndef MARKETDATA_SERVICES_COMMON_REQUEST_CHECKS_H_
#define MARKETDATA_SERVICES_COMMON_REQUEST_CHECKS_H_

#include <optional>
#include <utility>

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

// Each bound within the years 1-9999 (what RFC 3339 can write, and where PostgreSQL's timestamp
// arithmetic stays in range), and start before end.
inline absl::Status CheckTimeRange(const std::optional<absl::Time>& start,
                                   const std::optional<absl::Time>& end) {
  const absl::Time first = absl::FromUnixSeconds(-62135596800);  // 0001-01-01T00:00:00Z
  const absl::Time last = absl::FromUnixSeconds(253402300800);    // 10000-01-01T00:00:00Z
  for (const auto& [name, bound] : {std::pair{"start_time", start}, std::pair{"end_time", end}}) {
    if (bound.has_value() && (*bound < first || *bound >= last)) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z"));
    }
  }
  if (start.has_value() && end.has_value() && *start >= *end) {
    return absl::InvalidArgumentError("start_time must be before end_time");
  }
  return absl::OkStatus();
}

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_REQUEST_CHECKS_H_
