#include "services/events/price_event.h"

#include "services/common/proto_time.h"

namespace marketdata {

v1::PriceEvent ToPriceEvent(const StoredPrice& price) {
  v1::PriceEvent event;
  event.set_symbol(price.quote.symbol);
  event.set_price(price.quote.price);
  ToProtoTimestamp(price.quote.timestamp, event.mutable_timestamp());
  event.set_provider(price.quote.provider);
  event.set_raw_response_id(price.raw_response_id);
  event.set_price_point_id(price.price_point_id);
  return event;
}

}  // namespace marketdata
