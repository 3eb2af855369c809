#include "services/pricing/provider_shares.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "services/common/grpc/errors.h"

namespace marketdata {

absl::Status ProviderShares::Take(int64_t key, const PriceProvider& provider) {
  const std::optional<ProviderStats> stats = provider.stats();
  if (!stats.has_value() || stats->rate_limit_per_minute <= 0) return absl::OkStatus();
  const double limit = std::max(1.0, stats->rate_limit_per_minute * share_);
  TokenBucket* bucket;
  {
    absl::MutexLock lock(&mu_);
    std::unique_ptr<TokenBucket>& slot = buckets_[{key, provider.name()}];
    if (slot == nullptr) {
      // A key bursts up to 10 calls, scaled to its share: within the provider's own limit, which
      // the guard enforces on every call anyway.
      const double burst = std::max(1.0, std::min(10.0, stats->rate_limit_per_minute) * share_);
      slot = std::make_unique<TokenBucket>(limit, burst, clock_);
    }
    bucket = slot.get();  // buckets are never erased
  }
  if (bucket->TryAcquire()) return absl::OkStatus();
  const double missing = std::max(0.0, 1.0 - bucket->available());
  return WithRetryAdvice(
      absl::ResourceExhaustedError(absl::StrCat("this API key used its share of ", provider.name(),
                                                "'s rate limit (", limit, " calls a minute)")),
      RetryAdvice{absl::Seconds(missing * 60.0 / limit), static_cast<int64_t>(limit)});
}

}  // namespace marketdata
