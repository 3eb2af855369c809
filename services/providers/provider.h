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
#include "services/common/runtime/circuit_breaker.h"
#include "services/domain/quote.h"
#include "services/providers/provider_outcome.h"

namespace marketdata {

// How a provider has been doing lately, for the providers list.
struct ProviderStats {
  // The outbound limit; 0 when the provider has none (the offline test provider).
  double rate_limit_per_minute = 0;
  // Calls the minute's window allows right now (0 when there is no limit).
  double tokens_available = 0;
  // Calls allowed a UTC day (0: no daily limit), those left today (-1: no daily limit), when the
  // day's count resets, and how long until any limit allows a call (0: now).
  int64_t rate_limit_per_day = 0;
  int64_t calls_left_today = -1;
  absl::Time quota_resets_at;
  absl::Duration next_call_in;
  // The refresh floor (PriceProvider::min_refresh).
  absl::Duration min_refresh;
  // The circuit breaker, when there is one: its state, the time until its next probe may go and
  // how many times it opened.
  std::optional<CircuitBreaker::State> circuit;
  absl::Duration next_probe_in;
  int64_t circuit_opened = 0;
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
  // The provider's refresh floor: a quote of it younger than this is reused instead of calling
  // it again, whatever the request asked (0: only when the request accepts it, see max_age).
  virtual absl::Duration min_refresh() const { return absl::ZeroDuration(); }
  // Recent health, when the provider keeps track of it (see GuardedProvider). Thread-safe.
  virtual std::optional<ProviderStats> stats() const { return std::nullopt; }
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PROVIDERS_PROVIDER_H_
