// PriceProvider: one source of market prices (the offline test provider, Alpha Vantage, ...).
//
// Failures are classified with canonical codes so every layer above can pass them on unchanged:
//   NOT_FOUND           the provider does not know the symbol
//   RESOURCE_EXHAUSTED  the provider (or our outbound limit for it) is rate limiting us
//   UNAVAILABLE         the provider is down, timed out, answered garbage, or is not configured
//                       (e.g. its API key is missing: the message names the setting to set)
#ifndef MARKETDATA_SERVICES_PROVIDERS_PROVIDER_H_
#define MARKETDATA_SERVICES_PROVIDERS_PROVIDER_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/domain/quote.h"
#include "services/providers/provider_outcome.h"

namespace marketdata {

// How a provider has been doing lately, for the providers list.
struct ProviderStats {
  // The outbound limit; 0 when the provider has none (the offline test provider).
  double rate_limit_per_minute = 0;
  // Calls that could start right now without waiting (0 when there is no limit).
  double tokens_available = 0;
  // Share of the recent calls that failed with anything but NOT_FOUND, in [0, 1].
  double recent_error_rate = 0;
  // How many calls `recent_error_rate` is computed over (at most the last 100).
  int recent_requests = 0;
  // Every call since the start, by outcome (indexed by ProviderOutcome).
  std::array<int64_t, kProviderOutcomes> calls = {};
};

class PriceProvider {
 public:
  virtual ~PriceProvider() = default;

  virtual std::string name() const = 0;
  // True when every setting the provider needs is present.
  virtual bool configured() const = 0;
  // `symbol` is already normalised. Thread-safe.
  virtual absl::StatusOr<Quote> FetchQuote(absl::string_view symbol) = 0;
  // The same, given up (UNAVAILABLE) by `deadline`: the caller's budget, of which waiting for a
  // fetch thread may already have used a part. Providers that never wait ignore it.
  virtual absl::StatusOr<Quote> FetchQuoteBy(absl::string_view symbol, absl::Time deadline) {
    (void)deadline;
    return FetchQuote(symbol);
  }
  // False only for a provider whose FetchQuote never waits (no network, no timers): its quotes
  // are fetched on the thread that serves the request instead of a thread kept for blocking calls.
  virtual bool may_block() const { return true; }
  // Recent health, when the provider keeps track of it (see GuardedProvider). Thread-safe.
  virtual std::optional<ProviderStats> stats() const { return std::nullopt; }
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PROVIDERS_PROVIDER_H_
