// SqlParams: the parameters of one statement ($1, $2, ...), written once for every store in the
// text forms PostgreSQL reads: numbers exactly (doubles with 17 significant digits), times as UTC
// timestamps with microseconds, arrays as array literals with every element quoted and escaped,
// NULL for an unset optional. A statement then reads `$1` as the type it casts it to
// (`CAST($1 AS TIMESTAMPTZ)`, `CAST($2 AS TEXT[])`): one statement whatever the batch size.
//
// The other way, ParseSqlTime reads a timestamptz as the connection prints it (ISO, UTC: every
// connection of the pool is opened so).
#ifndef MARKETDATA_SERVICES_STORAGE_SQL_PARAMS_H_
#define MARKETDATA_SERVICES_STORAGE_SQL_PARAMS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace marketdata {

class SqlParams {
 public:
  SqlParams& Text(absl::string_view value);
  SqlParams& Int(int64_t value);
  SqlParams& Float(double value);
  SqlParams& Time(absl::Time value);
  SqlParams& Null();
  SqlParams& OptionalFloat(const std::optional<double>& value);
  SqlParams& OptionalInt(const std::optional<int64_t>& value);
  SqlParams& OptionalTime(const std::optional<absl::Time>& value);
  SqlParams& OptionalText(const std::optional<std::string>& value);

  SqlParams& TextArray(const std::vector<std::string>& values);
  SqlParams& IntArray(const std::vector<int64_t>& values);
  SqlParams& FloatArray(const std::vector<double>& values);
  SqlParams& OptionalFloatArray(const std::vector<std::optional<double>>& values);
  SqlParams& TimeArray(const std::vector<absl::Time>& values);
  SqlParams& OptionalTimeArray(const std::vector<std::optional<absl::Time>>& values);
  // bytea, as its hex text form.
  SqlParams& Bytes(absl::string_view value);

  // One element per parameter; nullopt is NULL.
  const std::vector<std::optional<std::string>>& values() const { return values_; }

 private:
  std::vector<std::optional<std::string>> values_;
};

// 2026-01-05 14:03:07.120391+00, as PostgreSQL reads and (in UTC, ISO) prints a timestamptz.
std::string SqlTimeText(absl::Time t);
absl::StatusOr<absl::Time> ParseSqlTime(absl::string_view text);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_STORAGE_SQL_PARAMS_H_
