#include "services/events/price_event.h"

#include <cmath>
#include <cstdint>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/common/grpc/proto_time.h"
#include "services/domain/symbol.h"

namespace marketdata {
namespace {

// The last second google.protobuf.Timestamp can hold: 9999-12-31T23:59:59Z.
constexpr int64_t kMaxTimestampSeconds = 253402300799;

absl::Status CheckTimestamp(const v1::PriceEvent& event, absl::Time now) {
  if (!event.has_timestamp()) return absl::InvalidArgumentError("missing timestamp");
  const google::protobuf::Timestamp& ts = event.timestamp();
  if (ts.seconds() <= 0 || ts.seconds() > kMaxTimestampSeconds || ts.nanos() < 0 ||
      ts.nanos() > 999999999) {
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

absl::Status Check(const v1::PriceEvent& event, absl::Time now) {
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
  return CheckTimestamp(event, now);
}

}  // namespace

v1::PriceEvent ToPriceEvent(const StoredPrice& price) {
  v1::PriceEvent event;
  event.set_symbol(price.quote.symbol);
  event.set_price(price.quote.price);
  ToProtoTimestamp(price.quote.timestamp, event.mutable_timestamp());
  event.set_provider(price.quote.provider);
  event.set_raw_response_id(price.raw_response_id);
  event.set_price_point_id(price.price_point_id);
  if (price.quote.volume.has_value()) event.set_volume(*price.quote.volume);
  return event;
}

std::string EncodePriceEvent(const StoredPrice& price) {
  return ToPriceEvent(price).SerializeAsString();
}

absl::StatusOr<StoredPrice> DecodePriceEvent(const std::string& payload,
                                             const std::string& content_type, absl::Time now) {
  if (!content_type.empty() && content_type != kPriceEventContentType) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported content-type \"", absl::CEscape(content_type.substr(0, 64)),
                     "\""));
  }
  v1::PriceEvent event;
  if (!event.ParseFromString(payload)) {
    return absl::InvalidArgumentError("not a PriceEvent protobuf");
  }
  if (absl::Status s = Check(event, now); !s.ok()) return s;
  StoredPrice price;
  price.quote.symbol = event.symbol();
  price.quote.price = event.price();
  price.quote.timestamp = FromProtoTimestamp(event.timestamp());
  price.quote.provider = event.provider();
  if (event.has_volume()) price.quote.volume = event.volume();
  price.raw_response_id = event.raw_response_id();
  price.price_point_id = event.price_point_id();
  return price;
}

}  // namespace marketdata
