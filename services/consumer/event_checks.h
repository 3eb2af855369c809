// Checks that a decoded PriceEvent can be averaged and stored. A record that parses but carries
// a value the store cannot take (a symbol that is not safe in a PostgreSQL array literal, a
// timestamp PostgreSQL or absl cannot represent, a NaN price, no price point id) would fail its
// batch on every retry; refusing it up front lets the consumer park it instead of stalling.
#ifndef MARKETDATA_SERVICES_CONSUMER_EVENT_CHECKS_H_
#define MARKETDATA_SERVICES_CONSUMER_EVENT_CHECKS_H_

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "proto/marketdata/v1/events.pb.h"

namespace marketdata {

// How far ahead of the consumer's clock an event's timestamp may be. Providers' clocks drift a
// little; a price stamped more than a day ahead is a corrupt record, and averaging it would put
// it at the head of its symbol's window until real time caught up.
inline constexpr absl::Duration kMaxEventClockSkew = absl::Hours(24);

// OK when `event` can be averaged; otherwise INVALID_ARGUMENT saying which field is wrong.
// Requires: a symbol already in its normalised form (see NormalizeSymbol); a finite, positive
// price; a price point id > 0; a timestamp in the years 1-9999 with nanos in [0, 1e9) and no more
// than kMaxEventClockSkew after `now`. Pure: `now` is passed in.
absl::Status CheckPriceEvent(const v1::PriceEvent& event, absl::Time now);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_CONSUMER_EVENT_CHECKS_H_
