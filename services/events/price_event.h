// The PriceEvent published for every stored price, and how it travels on Kafka.
#ifndef MARKETDATA_SERVICES_EVENTS_PRICE_EVENT_H_
#define MARKETDATA_SERVICES_EVENTS_PRICE_EVENT_H_

#include <string>

#include "absl/status/statusor.h"
#include "proto/marketdata/v1/events.pb.h"
#include "services/domain/quote.h"

namespace marketdata {

inline constexpr char kContentTypeHeader[] = "content-type";
inline constexpr char kPriceEventContentType[] = "application/x-protobuf";

v1::PriceEvent ToPriceEvent(const StoredPrice& price);

// Parses one Kafka record value into a PriceEvent and checks it can be averaged: a valid
// upper-case symbol, a positive finite price, a timestamp and a price point id.
// `content_type` is the record's content-type header ("" when absent).
absl::StatusOr<v1::PriceEvent> DecodePriceEvent(const std::string& payload,
                                                const std::string& content_type);


}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_EVENTS_PRICE_EVENT_H_
