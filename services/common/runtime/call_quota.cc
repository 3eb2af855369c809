#include "services/common/runtime/call_quota.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "services/common/grpc/errors.h"

namespace marketdata {
namespace {

// The most call times the window keeps (memory bound).
constexpr double kMaxWindowCalls = 10000;

absl::Time UtcDayStart(absl::Time t) {
  return absl::UnixEpoch() + absl::Floor(t - absl::UnixEpoch(), absl::Hours(24));
}

}  // namespace

CallQuota::CallQuota(Options options, Clock clock)
    : options_(std::move(options)),
      clock_(clock ? std::move(clock) : Clock([] { return absl::Now(); })) {
  const double p = options_.per_minute;
  if (p > 0 && !std::isinf(p)) {  // false for NaN too
    if (p <= kMaxWindowCalls) {
      // k calls in k/p minutes; rounded up to the nanosecond so the window is never short.
      window_calls_ = std::max<int64_t>(1, static_cast<int64_t>(std::floor(p)));
      window_ = absl::Ceil(absl::Seconds(60.0 * static_cast<double>(window_calls_) / p),
                           absl::Nanoseconds(1));
    } else {
      // m windows of 1/m minute, each holding floor(p/m) calls: at most p in any 60 s.
      const double m = std::ceil(p / kMaxWindowCalls);
      window_calls_ = static_cast<int64_t>(std::floor(p / m));
      window_ = absl::Ceil(absl::Seconds(60.0 / m), absl::Nanoseconds(1));
    }
  }
  absl::MutexLock lock(&mu_);
  calls_.reserve(static_cast<size_t>(window_calls_));
  day_start_ = UtcDayStart(clock_());
}

void CallQuota::RollDay(absl::Time now) {
  // A clock stepped back into an earlier day keeps the count: it never hands out calls twice.
  if (now >= day_start_ + absl::Hours(24)) {
    day_start_ = UtcDayStart(now);
    used_today_ = 0;
  }
}

int64_t CallQuota::UsedToday(absl::Time now) const {
  return now >= day_start_ + absl::Hours(24) ? 0 : used_today_;
}

absl::Time CallQuota::DayResetsAt(absl::Time now) const {
  // The end of the counted day; after a clock stepped back that is later than the next midnight.
  return now >= day_start_ + absl::Hours(24) ? UtcDayStart(now) + absl::Hours(24)
                                             : day_start_ + absl::Hours(24);
}

absl::Duration CallQuota::MinuteWait(absl::Time now) const {
  if (!minute_limited() || static_cast<int64_t>(calls_.size()) < window_calls_) {
    return absl::ZeroDuration();
  }
  // Full ring: the oldest of the last k calls must have left the window.
  return std::max(absl::ZeroDuration(), calls_[next_] + window_ - now);
}

absl::Duration CallQuota::DayWait(absl::Time now) const {
  if (!day_limited() || UsedToday(now) < options_.per_day) return absl::ZeroDuration();
  return DayResetsAt(now) - now;
}

absl::Status CallQuota::MinuteRefusal(absl::Duration wait) const {
  std::string limit;
  if (window_ == absl::Minutes(1)) {
    limit = absl::StrCat(window_calls_, window_calls_ == 1 ? " call" : " calls", " a minute");
  } else {
    limit = absl::StrFormat("%d %s per %.6g s (%.6g a minute)", window_calls_,
                            window_calls_ == 1 ? "call" : "calls", absl::ToDoubleSeconds(window_),
                            options_.per_minute);
  }
  return WithRetryAdvice(
      absl::ResourceExhaustedError(absl::StrCat(options_.name, ": ", limit,
                                                " used; next call allowed in ", WaitText(wait))),
      RetryAdvice{wait, window_calls_});
}

absl::Status CallQuota::DayRefusal(absl::Time now, absl::Duration wait) const {
  const std::string resets =
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", now + wait, absl::UTCTimeZone());
  return WithRetryAdvice(
      absl::ResourceExhaustedError(absl::StrCat(options_.name, ": daily quota of ",
                                                options_.per_day,
                                                options_.per_day == 1 ? " call" : " calls",
                                                " used; it resets at ",
                                                resets)),
      RetryAdvice{wait, options_.per_day});
}

absl::Status CallQuota::Acquire() {
  if (!minute_limited() && !day_limited()) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  // Read under the lock so that the ring holds call times in the order the calls were granted.
  const absl::Time now = clock_();
  RollDay(now);
  const absl::Duration minute_wait = MinuteWait(now);
  const absl::Duration day_wait = DayWait(now);
  if (minute_wait > absl::ZeroDuration() || day_wait > absl::ZeroDuration()) {
    // The later of the two is when a call is really allowed.
    return day_wait >= minute_wait ? DayRefusal(now, day_wait) : MinuteRefusal(minute_wait);
  }
  if (minute_limited()) {
    if (static_cast<int64_t>(calls_.size()) < window_calls_) {
      calls_.push_back(now);
    } else {
      calls_[next_] = now;
    }
    next_ = (next_ + 1) % static_cast<size_t>(window_calls_);
  }
  ++used_today_;
  return absl::OkStatus();
}

void CallQuota::Seed(int64_t used_today) {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_();
  day_start_ = UtcDayStart(now);
  used_today_ = std::max<int64_t>(0, used_today);
}

CallQuota::QuotaState CallQuota::state() const {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_();
  QuotaState s;
  s.per_minute = minute_limited() ? options_.per_minute : std::numeric_limits<double>::infinity();
  s.minute_left = kUnlimited;
  if (minute_limited()) {
    int64_t in_window = 0;
    for (const absl::Time t : calls_) {
      if (t + window_ > now) ++in_window;
    }
    s.minute_left = std::max<int64_t>(0, window_calls_ - in_window);
  }
  s.per_day = day_limited() ? options_.per_day : 0;
  s.day_left = day_limited() ? std::max<int64_t>(0, options_.per_day - UsedToday(now)) : -1;
  s.day_resets_at = DayResetsAt(now);
  s.next_call_in = std::max(MinuteWait(now), DayWait(now));
  return s;
}

}  // namespace marketdata
