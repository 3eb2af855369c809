// Keyset page tokens "<timestamp micros>.<id>": the (ts, id) of a page's last row, from which the
// next page continues newest-first.
#ifndef MARKETDATA_SERVICES_STORAGE_PAGE_CURSOR_H_
#define MARKETDATA_SERVICES_STORAGE_PAGE_CURSOR_H_

#include <cstdint>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "services/storage/sql_params.h"

namespace marketdata {

struct PageCursor {
  long long micros = 0;
  long long id = 0;
};

inline std::string EncodePageCursor(absl::Time timestamp, int64_t id) {
  return absl::StrCat(absl::ToUnixMicros(timestamp), ".", id);
}

// INVALID_ARGUMENT "invalid page_token" for anything not produced by EncodePageCursor: also a
// timestamp outside the years 1-9999 (which every stored row is within, and beyond which
// PostgreSQL's timestamp arithmetic overflows) or a negative id.
inline absl::StatusOr<PageCursor> DecodePageCursor(const std::string& token) {
  constexpr int64_t kFirstMicros = -62135596800000000;  // 0001-01-01T00:00:00Z
  constexpr int64_t kLastMicros = 253402300799999999;   // 9999-12-31T23:59:59.999999Z
  std::pair<std::string, std::string> parts = absl::StrSplit(token, absl::MaxSplits('.', 1));
  int64_t micros = 0, id = 0;
  if (!absl::SimpleAtoi(parts.first, &micros) || !absl::SimpleAtoi(parts.second, &id) ||
      micros < kFirstMicros || micros > kLastMicros || id < 0) {
    return absl::InvalidArgumentError("invalid page_token");
  }
  return PageCursor{micros, id};
}

// The cursor of `token` as two parameters, its time and its id; NULL and NULL on the first page
// (an empty token).
inline absl::Status AddPageCursor(const std::string& token, SqlParams& params) {
  if (token.empty()) {
    params.Null().Null();
    return absl::OkStatus();
  }
  absl::StatusOr<PageCursor> cursor = DecodePageCursor(token);
  if (!cursor.ok()) return cursor.status();
  params.Time(absl::FromUnixMicros(cursor->micros)).Int(cursor->id);
  return absl::OkStatus();
}

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_STORAGE_PAGE_CURSOR_H_
