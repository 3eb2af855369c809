#include "services/events/price_event.h"

#include "absl/time/time.h"

namespace marketdata {

v1::PriceEvent ToPriceEvent(const StoredPrice& price) {
  v1::PriceEvent event;
  event.set_symbol(price.quote.symbol);
  event.set_price(price.quote.price);
  const int64_t micros = absl::ToUnixMicros(price.quote.timestamp);
  event.mutable_timestamp()->set_seconds(micros / 1000000);
  event.mutable_timestamp()->set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  event.set_provider(price.quote.provider);
  event.set_raw_response_id(price.raw_response_id);
  event.set_price_point_id(price.price_point_id);
  return event;
}

}  // namespace marketdata
