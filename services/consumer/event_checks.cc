#include "services/consumer/event_checks.h"

#include <cmath>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/common/proto_time.h"
#include "services/domain/symbol.h"

namespace marketdata {
namespace {

// google.protobuf.Timestamp's range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z.
constexpr int64_t kMinTimestampSeconds = -62135596800;
constexpr int64_t kMaxTimestampSeconds = 253402300799;

}  // namespace

absl::Status CheckPriceEvent(const v1::PriceEvent& event, absl::Time now) {
  // The store puts symbols between double quotes in PostgreSQL array literals without escaping
  // them, so only the normalised alphabet is safe there. A symbol that merely normalises to a
  // valid one (lower case, blanks) would be averaged apart from its stored price points.
  absl::StatusOr<std::string> symbol = NormalizeSymbol(event.symbol());
  if (!symbol.ok() || *symbol != event.symbol()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid symbol \"", absl::CEscape(event.symbol().substr(0, 32)), "\""));
  }
  // Written as `!(price > 0)` so that NaN is refused too.
  if (!std::isfinite(event.price()) || !(event.price() > 0)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid price ", event.price()));
  }
  if (event.has_volume() && (!std::isfinite(event.volume()) || event.volume() < 0)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid volume ", event.volume()));
  }
  if (event.price_point_id() <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("missing price_point_id (", event.price_point_id(), ")"));
  }
  if (!event.has_timestamp()) return absl::InvalidArgumentError("missing timestamp");
  const google::protobuf::Timestamp& ts = event.timestamp();
  if (ts.seconds() < kMinTimestampSeconds || ts.seconds() > kMaxTimestampSeconds ||
      ts.nanos() < 0 || ts.nanos() > 999999999) {
    return absl::InvalidArgumentError(absl::StrCat("timestamp out of range (seconds ",
                                                   ts.seconds(), ", nanos ", ts.nanos(), ")"));
  }
  const absl::Time at = FromProtoTimestamp(ts);
  if (at > now + kMaxEventClockSkew) {
    return absl::InvalidArgumentError(
        absl::StrCat("timestamp ", absl::FormatTime(at, absl::UTCTimeZone()), " is more than ",
                     absl::FormatDuration(kMaxEventClockSkew), " in the future"));
  }
  return absl::OkStatus();
}

}  // namespace marketdata
