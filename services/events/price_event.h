// The PriceEvent published for every stored price: its payload, written and read here once.
// A record's value is a serialised v1::PriceEvent; DecodePriceEvent parses and checks it in one
// step and gives back the domain value (StoredPrice), so nothing past the decoder sees the wire
// type. Its headers (content type, request id, traceparent) are in price_headers.h.
#ifndef MARKETDATA_SERVICES_EVENTS_PRICE_EVENT_H_
#define MARKETDATA_SERVICES_EVENTS_PRICE_EVENT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/marketdata/v1/events.pb.h"
#include "services/domain/quote.h"

namespace marketdata {

inline constexpr char kPriceEventContentType[] = "application/x-protobuf";

// How far ahead of the reader's clock an event's timestamp may be. Providers' clocks drift a
// little; a price stamped more than a day ahead is a corrupt record, and averaging it would put
// it at the head of its symbol's window until real time caught up (the rule quotes obey too).
inline constexpr absl::Duration kMaxEventClockSkew = absl::Hours(24);

v1::PriceEvent ToPriceEvent(const StoredPrice& price);
// The record value of `price`.
std::string EncodePriceEvent(const StoredPrice& price);

// Parses one record value and checks that the price can be averaged and stored; otherwise
// INVALID_ARGUMENT saying which field is wrong. `content_type` is the record's content-type
// header ("" when absent: the payload is taken as a PriceEvent). A record that parses but carries
// a value the stores cannot take would fail its batch on every retry; refusing it here lets the
// consumer park it instead of stalling. Requires: a symbol already in its normalised form (see
// NormalizeSymbol: only that alphabet is safe in the stores' array literals, and a symbol that
// merely normalises to a valid one would be averaged apart from its stored price points); a
// finite, positive price; a finite volume >= 0 when there is one; a price point id > 0; a
// timestamp after 1970-01-01T00:00:00Z with nanos in [0, 1e9) and no more than
// kMaxEventClockSkew after `now`. Pure: `now` is passed in. The result has no raw_response.
absl::StatusOr<StoredPrice> DecodePriceEvent(const std::string& payload,
                                             const std::string& content_type, absl::Time now);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_EVENTS_PRICE_EVENT_H_
