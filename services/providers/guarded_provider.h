// GuardedProvider: wraps a provider with what every outbound call needs: an outbound rate limit
// (token bucket), retries with exponential backoff and full jitter for UNAVAILABLE, an overall
// deadline per call, and recent statistics for the providers list.
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
#include "services/providers/provider.h"
#include "services/common/runtime/token_bucket.h"

namespace marketdata {

struct GuardOptions {
  // Outbound calls a minute (infinite: no limit) and how many may go at once after a quiet spell.
  double per_minute = std::numeric_limits<double>::infinity();
  double burst = 1;
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
  // RESOURCE_EXHAUSTED without calling the provider when the outbound limit is reached.
  absl::StatusOr<Quote> FetchQuote(absl::string_view symbol) override;
  // The same, within the earlier of `deadline` and the guard's own deadline for the call.
  absl::StatusOr<Quote> FetchQuoteBy(absl::string_view symbol, absl::Time deadline) override;
  // Over the last kStatsWindow calls; a call that ends in any error but NOT_FOUND is an error.
  std::optional<ProviderStats> stats() const override;

 private:
  absl::StatusOr<Quote> Fetch(absl::string_view symbol, absl::Time deadline);
  absl::Duration Jitter(absl::Duration cap);
  void Record(const absl::Status& status);

  const std::unique_ptr<PriceProvider> inner_;
  const GuardOptions options_;
  const absl::Duration deadline_;
  TokenBucket bucket_;

  mutable absl::Mutex mu_;
  std::mt19937_64 random_ ABSL_GUARDED_BY(mu_);
  std::array<bool, kStatsWindow> failed_ ABSL_GUARDED_BY(mu_) = {};
  int recorded_ ABSL_GUARDED_BY(mu_) = 0;  // calls recorded so far, capped at kStatsWindow
  int next_ ABSL_GUARDED_BY(mu_) = 0;      // where the next call's outcome goes in failed_
  std::array<std::atomic<int64_t>, kProviderOutcomes> calls_{};
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PROVIDERS_GUARDED_PROVIDER_H_
