// A price as a provider reported it, before it is stored.
#ifndef MARKETDATA_SERVICES_DOMAIN_QUOTE_H_
#define MARKETDATA_SERVICES_DOMAIN_QUOTE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "services/common/logging/request_context.h"

namespace marketdata {

struct Quote {
  std::string symbol;    // normalised
  double price = 0;
  absl::Time timestamp;  // when the provider priced it
  std::string provider;
  // The provider's reply as a JSON document, with credentials removed.
  std::string raw_response;
  // Shares traded at this price, when the provider says (the test provider does; the day's
  // cumulative volume some providers report is not a per-price volume and is left out).
  std::optional<double> volume;
  // The request the price was fetched for (empty for polling runs): kept with the outbox entry
  // and sent as headers of the price's event, so the consumer's lines name the request too.
  RequestContext origin;
  // When this service asked the provider for it (the start of the call): how old an answer is,
  // for requests that accept a recent quote (max_age). Unset until PriceRecorder fetches it.
  absl::Time fetched_at = absl::InfinitePast();
};

// A quote after it was committed to the database.
struct StoredPrice {
  Quote quote;
  int64_t raw_response_id = 0;
  int64_t price_point_id = 0;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_DOMAIN_QUOTE_H_
