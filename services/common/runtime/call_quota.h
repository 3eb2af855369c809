// CallQuota: the limits a provider puts on our calls to it, enforced as the provider counts them,
// so that we never make a call it would refuse. Thread-safe.
//
// The per-minute limit is a sliding window, not a token bucket: a bucket of burst B refilling at p
// a minute lets B + p calls through in 60 s, more than the provider allows. Here, with
// k = max(1, floor(p)), at most k calls fall in any window of k/p minutes (half-open, [t, t + W)):
// p = 5 gives 5 calls per 60 s, p = 0.5 one call per 120 s, p = 1.5 one call per 40 s. The times of
// the last k calls are kept in a ring. To bound memory k is at most 10000: above 10000 a minute
// the window becomes 1/m of a minute holding floor(p/m) calls (m = ceil(p/10000)), so any 60 s
// still sees at most p calls.
//
// The daily limit counts calls per UTC day; the count resets at 00:00 UTC. There are no refunds:
// a call that was made counts even if it failed, as it does for the provider.
//
// A refusal is RESOURCE_EXHAUSTED carrying RetryAdvice (services/common/grpc/errors.h): the exact
// time until a call would be allowed, and the limit that refused (k calls for the window, or
// per_day).
#ifndef MARKETDATA_SERVICES_COMMON_RUNTIME_CALL_QUOTA_H_
#define MARKETDATA_SERVICES_COMMON_RUNTIME_CALL_QUOTA_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace marketdata {

class CallQuota {
 public:
  using Clock = std::function<absl::Time()>;

  struct Options {
    // Calls a minute. Infinity (or anything not positive) means no per-minute limit.
    double per_minute = std::numeric_limits<double>::infinity();
    // Calls per UTC day. 0 (or negative) means no daily limit.
    int64_t per_day = 0;
    // Used in messages, e.g. "alpha_vantage".
    std::string name;
  };

  // QuotaState::minute_left when there is no per-minute limit.
  static constexpr int64_t kUnlimited = std::numeric_limits<int64_t>::max();

  // A snapshot for the providers list and metrics.
  struct QuotaState {
    // As configured; infinity without a per-minute limit.
    double per_minute;
    // Calls the window allows right now; kUnlimited without a per-minute limit.
    int64_t minute_left;
    // As configured; 0 without a daily limit.
    int64_t per_day;
    // per_day minus the calls made today; -1 without a daily limit.
    int64_t day_left;
    // When the day's count resets: 00:00 UTC (given without a daily limit too).
    absl::Time day_resets_at;
    // Until both limits allow a call; zero when one is allowed now.
    absl::Duration next_call_in;
  };

  // `clock` defaults to absl::Now.
  explicit CallQuota(Options options, Clock clock = nullptr);

  // Takes one call if both limits allow it. Otherwise RESOURCE_EXHAUSTED with RetryAdvice; a
  // refused Acquire takes nothing. When both limits refuse, the advice is for the later of the two.
  absl::Status Acquire();

  // Sets the calls already made today (UTC), e.g. read back from storage after a restart.
  void Seed(int64_t used_today);

  QuotaState state() const;

  const std::string& name() const { return options_.name; }

 private:
  bool minute_limited() const { return window_calls_ > 0; }
  bool day_limited() const { return options_.per_day > 0; }
  // Starts a new count when `now` is in a later UTC day than the count's.
  void RollDay(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t UsedToday(absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // When the day's count resets (00:00 UTC).
  absl::Time DayResetsAt(absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Time until the window allows a call; zero when it allows one now.
  absl::Duration MinuteWait(absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Duration DayWait(absl::Time now) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status MinuteRefusal(absl::Duration wait) const;
  absl::Status DayRefusal(absl::Time now, absl::Duration wait) const;

  const Options options_;
  // Set once by the constructor, read without the lock.
  int64_t window_calls_ = 0;  // k; 0 without a per-minute limit
  absl::Duration window_;     // W: at most k calls in any window this long
  const Clock clock_;

  mutable absl::Mutex mu_;
  // The times of the last k calls; `next_` is the slot the next call overwrites, which holds the
  // oldest time once the ring is full.
  std::vector<absl::Time> calls_ ABSL_GUARDED_BY(mu_);
  size_t next_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time day_start_ ABSL_GUARDED_BY(mu_);  // 00:00 UTC of the day `used_today_` counts
  int64_t used_today_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_RUNTIME_CALL_QUOTA_H_
