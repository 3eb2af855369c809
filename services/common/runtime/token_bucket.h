// TokenBucket: an outbound rate limit. Holds up to `burst` tokens and gains `per_minute` tokens a
// minute; each call takes one. Thread-safe.
#ifndef MARKETDATA_SERVICES_COMMON_RUNTIME_TOKEN_BUCKET_H_
#define MARKETDATA_SERVICES_COMMON_RUNTIME_TOKEN_BUCKET_H_

#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace marketdata {

class TokenBucket {
 public:
  using Clock = std::function<absl::Time()>;

  // Starts full. `per_minute` may be infinite: then every TryAcquire() succeeds. `burst` is at
  // least one token. `clock` defaults to absl::Now.
  TokenBucket(double per_minute, double burst, Clock clock = nullptr);

  // Takes a token if one is there.
  bool TryAcquire();
  // Tokens there now (fractional while refilling); +infinity without a limit.
  double available() const;

  double per_minute() const { return per_minute_; }
  bool unlimited() const;

 private:
  double TokensAt(absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const double per_minute_;
  const double burst_;
  const Clock clock_;
  mutable absl::Mutex mu_;
  double tokens_ ABSL_GUARDED_BY(mu_);
  absl::Time updated_ ABSL_GUARDED_BY(mu_);
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_RUNTIME_TOKEN_BUCKET_H_
