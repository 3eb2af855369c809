// ProviderShares: each API key's share of a provider's outbound rate limit. Alpha Vantage allows
// 5 calls a minute; without shares one key could spend all of them and starve every other key.
// A key may make at most `share` of a provider's calls a minute (at least one a minute); calls
// beyond it are refused with RESOURCE_EXHAUSTED and retry advice, before the provider is asked.
#ifndef MARKETDATA_SERVICES_PRICING_PROVIDER_SHARES_H_
#define MARKETDATA_SERVICES_PRICING_PROVIDER_SHARES_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/providers/provider.h"
#include "services/common/runtime/token_bucket.h"

namespace marketdata {

class ProviderShares {
 public:
  // `share` in (0, 1]; `clock` for tests (absl::Now by default).
  explicit ProviderShares(double share, std::function<absl::Time()> clock = nullptr)
      : share_(share), clock_(std::move(clock)) {}

  // Takes one call of `key`'s share of `provider`. OK for a provider without a limit.
  absl::Status Take(int64_t key, const PriceProvider& provider);

 private:
  const double share_;
  const std::function<absl::Time()> clock_;
  absl::Mutex mu_;
  // By key and provider name.
  absl::flat_hash_map<std::pair<int64_t, std::string>, std::unique_ptr<TokenBucket>> buckets_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PRICING_PROVIDER_SHARES_H_
