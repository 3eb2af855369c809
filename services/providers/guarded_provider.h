// GuardedProvider: wraps a provider with what every outbound call needs: the provider's own call
// limits (per minute as a sliding window, per UTC day: CallQuota), a circuit breaker that fails
// fast while the provider keeps failing (CircuitBreaker), retries with exponential backoff and
// full jitter for UNAVAILABLE, an overall deadline per call, its refresh floor, and recent
// statistics for the providers list.
#ifndef MARKETDATA_SERVICES_PROVIDERS_GUARDED_PROVIDER_H_
#define MARKETDATA_SERVICES_PROVIDERS_GUARDED_PROVIDER_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/providers/daily_call_ledger.h"
#include "services/providers/provider.h"
#include "services/common/runtime/call_quota.h"
#include "services/common/runtime/circuit_breaker.h"

namespace marketdata {

struct GuardOptions {
  // Outbound calls a minute (infinite: no limit): never more in any 60 s. Calls a UTC day (0: no
  // limit).
  double per_minute = std::numeric_limits<double>::infinity();
  int64_t per_day = 0;
  // A quote younger than this is reused instead of calling again (see PriceProvider).
  absl::Duration min_refresh = absl::ZeroDuration();
  // Consecutive failed calls (UNAVAILABLE after the retries) that open the circuit; 0: never.
  // While open, calls fail at once (UNAVAILABLE) for `breaker_cool_down`; then one probe call
  // goes, and its success closes the circuit.
  int breaker_failures = 0;
  absl::Duration breaker_cool_down = absl::Seconds(5);
  // Where the daily quota's calls are counted across processes and restarts (null: in this
  // process only). Must outlive the provider.
  DailyCallLedger* ledger = nullptr;
  // Retries after an UNAVAILABLE failure; each waits a random time in [0, backoff), where backoff
  // starts at `initial_backoff` and doubles, and each needs a token of its own.
  int max_retries = 2;
  absl::Duration initial_backoff = absl::Milliseconds(100);
  // No retry starts after this long from the call's start. Unset: provider_timeout × (retries+1).
  std::optional<absl::Duration> deadline;
  absl::Duration provider_timeout = absl::Seconds(5);
  // For tests; default to absl::Now, absl::SleepFor and a random seed.
  std::function<absl::Time()> clock;
  std::function<void(absl::Duration)> sleep;
  std::optional<uint64_t> jitter_seed;
};

class GuardedProvider final : public PriceProvider {
 public:
  static constexpr int kStatsWindow = 100;

  GuardedProvider(std::unique_ptr<PriceProvider> inner, GuardOptions options);

  std::string name() const override { return inner_->name(); }
  bool configured() const override { return inner_->configured(); }
  // The guard itself waits only before a retry, and retries follow UNAVAILABLE, which a provider
  // that never blocks (the test provider) does not return.
  bool may_block() const override { return inner_->may_block(); }
  // RESOURCE_EXHAUSTED without calling the provider when a limit is reached (with the true time
  // until it allows a call); UNAVAILABLE at once while the circuit is open.
  absl::StatusOr<Quote> FetchQuote(absl::string_view symbol) override;
  // The same, within the earlier of `deadline` and the guard's own deadline for the call.
  absl::StatusOr<Quote> FetchQuoteBy(absl::string_view symbol, absl::Time deadline) override;
  // Over the last kStatsWindow calls; a call that ends in any error but NOT_FOUND is an error.
  std::optional<ProviderStats> stats() const override;
  absl::Duration min_refresh() const override { return options_.min_refresh; }
  // Tells the quota the calls already made today, e.g. counted in storage before a restart.
  void SeedDailyCalls(int64_t used_today) { quota_.Seed(used_today); }
  // The same from the ledger, when there is one and a daily limit.
  absl::Status LoadDailyCalls();

 private:
  absl::StatusOr<Quote> Fetch(absl::string_view symbol, absl::Time deadline);
  // One call of the quota: the minute's window, and the day's, counted in the ledger when there
  // is one (in this process alone while it is out of reach).
  absl::Status TakeCall();
  absl::Duration Jitter(absl::Duration cap);
  void Record(const absl::Status& status);

  const std::unique_ptr<PriceProvider> inner_;
  const GuardOptions options_;
  const absl::Duration deadline_;
  CallQuota quota_;
  std::unique_ptr<CircuitBreaker> breaker_;  // null: breaker_failures is 0

  mutable absl::Mutex mu_;
  std::mt19937_64 random_ ABSL_GUARDED_BY(mu_);
  std::array<bool, kStatsWindow> failed_ ABSL_GUARDED_BY(mu_) = {};
  int recorded_ ABSL_GUARDED_BY(mu_) = 0;  // calls recorded so far, capped at kStatsWindow
  int next_ ABSL_GUARDED_BY(mu_) = 0;      // where the next call's outcome goes in failed_
  std::array<std::atomic<int64_t>, kProviderOutcomes> calls_{};
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PROVIDERS_GUARDED_PROVIDER_H_
