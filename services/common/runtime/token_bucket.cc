#include "services/common/runtime/token_bucket.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "absl/time/clock.h"

namespace marketdata {

TokenBucket::TokenBucket(double per_minute, double burst, Clock clock)
    : per_minute_(per_minute),
      burst_(std::max(1.0, burst)),
      clock_(clock ? std::move(clock) : Clock([] { return absl::Now(); })),
      tokens_(burst_),
      updated_(clock_()) {}

bool TokenBucket::unlimited() const { return std::isinf(per_minute_) && per_minute_ > 0; }

double TokenBucket::TokensAt(absl::Time now) const {
  // A clock that steps back adds nothing rather than taking tokens away.
  const double minutes = std::max(0.0, absl::ToDoubleMinutes(now - updated_));
  return std::min(burst_, tokens_ + minutes * per_minute_);
}

bool TokenBucket::TryAcquire() {
  if (unlimited()) return true;
  const absl::Time now = clock_();
  absl::MutexLock lock(&mu_);
  tokens_ = TokensAt(now);
  updated_ = std::max(updated_, now);
  // Summing many small refills in floating point lands just short of whole tokens.
  constexpr double kRounding = 1e-9;
  if (tokens_ < 1.0 - kRounding) return false;
  tokens_ = std::max(0.0, tokens_ - 1.0);
  return true;
}

double TokenBucket::available() const {
  if (unlimited()) return std::numeric_limits<double>::infinity();
  const absl::Time now = clock_();
  absl::MutexLock lock(&mu_);
  return TokensAt(now);
}

}  // namespace marketdata
