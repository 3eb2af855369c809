// Checks shared by the list calls: page sizes, time ranges and page tokens, with the same messages everywhere.
#ifndef MARKETDATA_SERVICES_COMMON_GRPC_REQUEST_CHECKS_H_
#define MARKETDATA_SERVICES_COMMON_GRPC_REQUEST_CHECKS_H_

#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/grpc/proto_time.h"

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
// arithmetic stays in range), and start not after end: start equal to end is the empty range
// (the end is exclusive), a valid range that holds nothing; start after end is a mistake.
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
  if (start.has_value() && end.has_value() && *start > *end) {
    return absl::InvalidArgumentError("start_time must not be after end_time");
  }
  return absl::OkStatus();
}

namespace request_checks_internal {

inline bool Digits(absl::string_view s, size_t max_digits) {
  if (s.empty() || s.size() > max_digits) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace request_checks_internal

// Page tokens have one shape each, the one the stores write (and the OpenAPI document gives):
// "<microseconds since 1970>.<row id>" for prices and averages, "<microseconds since
// 1970>.<job id>" for polling jobs; "" starts at the first page. Anything else is INVALID_ARGUMENT
// "invalid page_token" here, before a store parses it: a store alone took signs, blanks and any
// number of digits, some of which it then refused, so no pattern could say what is accepted.
// 17 digits of microseconds reach the year 5138 and 18 digits of id stay below 2^63.
inline absl::Status CheckCursorPageToken(absl::string_view token) {
  if (token.empty()) return absl::OkStatus();
  const size_t dot = token.find('.');
  if (dot == absl::string_view::npos ||
      !request_checks_internal::Digits(token.substr(0, dot), 17) ||
      !request_checks_internal::Digits(token.substr(dot + 1), 18)) {
    return absl::InvalidArgumentError("invalid page_token");
  }
  return absl::OkStatus();
}

inline absl::Status CheckJobPageToken(absl::string_view token) {
  if (token.empty()) return absl::OkStatus();
  const size_t dot = token.find('.');
  if (dot == absl::string_view::npos ||
      !request_checks_internal::Digits(token.substr(0, dot), 17)) {
    return absl::InvalidArgumentError("invalid page_token");
  }
  absl::string_view id = token.substr(dot + 1);  // poll_ and 8 lower-case hex digits
  bool valid = id.size() == 13 && id.substr(0, 5) == "poll_";
  for (size_t i = 5; valid && i < id.size(); ++i) {
    valid = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f');
  }
  if (!valid) return absl::InvalidArgumentError("invalid page_token");
  return absl::OkStatus();
}

// The paging of a list call over a time range (prices, averages, bars): the request's
// start_time, end_time, limit and page_token, checked as above.
struct TimePage {
  std::optional<absl::Time> start, end;
  int limit = 0;
  std::string page_token;

  // Sets the same four fields of a store's query (prices, averages, bars).
  template <typename Query>
  void ApplyTo(Query* query) const {
    query->start = start;
    query->end = end;
    query->limit = limit;
    query->page_token = page_token;
  }
};

template <typename Request>
absl::StatusOr<TimePage> CheckTimePage(const Request& request, int default_limit, int max_limit) {
  TimePage page;
  if (request.has_start_time()) page.start = FromProtoTimestamp(request.start_time());
  if (request.has_end_time()) page.end = FromProtoTimestamp(request.end_time());
  if (absl::Status s = CheckTimeRange(page.start, page.end); !s.ok()) return s;
  absl::StatusOr<int> limit = CheckLimit(request.limit(), default_limit, max_limit);
  if (!limit.ok()) return limit.status();
  page.limit = *limit;
  if (absl::Status s = CheckCursorPageToken(request.page_token()); !s.ok()) return s;
  page.page_token = request.page_token();
  return page;
}

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_GRPC_REQUEST_CHECKS_H_
