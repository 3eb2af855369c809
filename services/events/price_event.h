// The PriceEvent published for every stored price, and how it travels on Kafka.
#ifndef MARKETDATA_SERVICES_EVENTS_PRICE_EVENT_H_
#define MARKETDATA_SERVICES_EVENTS_PRICE_EVENT_H_

#include "proto/marketdata/v1/events.pb.h"
#include "services/domain/quote.h"

namespace marketdata {

inline constexpr char kContentTypeHeader[] = "content-type";
inline constexpr char kPriceEventContentType[] = "application/x-protobuf";

v1::PriceEvent ToPriceEvent(const StoredPrice& price);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_EVENTS_PRICE_EVENT_H_
