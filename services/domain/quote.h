// A price as a provider reported it, before it is stored.
#ifndef MARKETDATA_SERVICES_DOMAIN_QUOTE_H_
#define MARKETDATA_SERVICES_DOMAIN_QUOTE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "services/common/logging/request_context.h"

namespace marketdata {

// A tick of a polling job that a price is fetched for. Such a price is stored only while `owner`
// holds the job's lease for this very tick, and at most once per (job, tick, symbol): the tick's
// record of the symbol is written in the same transaction as the price, under a unique key.
struct PollTick {
  std::string job_id;
  absl::Time tick_at;  // the run's planned time (the job's next_run_at when it was claimed)
  std::string owner;   // the replica holding the lease

  friend bool operator==(const PollTick& a, const PollTick& b) {
    return a.job_id == b.job_id && a.tick_at == b.tick_at && a.owner == b.owner;
  }
};

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
  // The polling tick it was fetched for, if any (see PollTick).
  std::optional<PollTick> tick;
};

// A quote after it was committed to the database.
struct StoredPrice {
  Quote quote;
  int64_t raw_response_id = 0;
  int64_t price_point_id = 0;
  // Whether the quote's tick (quote.tick) was recorded with this price, in its transaction.
  bool tick_recorded = false;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_DOMAIN_QUOTE_H_
