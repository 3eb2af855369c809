#include "services/events/price_event.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "services/common/proto_time.h"
#include "services/domain/symbol.h"

namespace marketdata {

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

absl::StatusOr<v1::PriceEvent> DecodePriceEvent(const std::string& payload,
                                                const std::string& content_type) {
  if (!content_type.empty() && content_type != kPriceEventContentType) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported content-type \"", content_type.substr(0, 64), "\""));
  }
  v1::PriceEvent event;
  if (!event.ParseFromString(payload)) {
    return absl::InvalidArgumentError("not a PriceEvent protobuf");
  }
  absl::StatusOr<std::string> symbol = NormalizeSymbol(event.symbol());
  if (!symbol.ok() || *symbol != event.symbol()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid symbol \"", event.symbol().substr(0, 32), "\""));
  }
  if (!std::isfinite(event.price()) || event.price() <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("invalid price ", event.price()));
  }
  if (event.price_point_id() <= 0) {
    return absl::InvalidArgumentError("missing price_point_id");
  }
  if (!event.has_timestamp() || event.timestamp().seconds() <= 0) {
    return absl::InvalidArgumentError("missing timestamp");
  }
  return event;
}

}  // namespace marketdata
