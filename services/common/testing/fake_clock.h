// FakeClock: a clock that only moves when a test says so, for everything that takes its time from
// a std::function<absl::Time()> (token buckets, guarded providers, the outbox relay, the lease
// keeper, ...). Thread-safe: code under test may read it from its own threads while the test
// advances it.
#ifndef MARKETDATA_SERVICES_COMMON_TESTING_FAKE_CLOCK_H_
#define MARKETDATA_SERVICES_COMMON_TESTING_FAKE_CLOCK_H_

#include <functional>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace marketdata {

class FakeClock {
 public:
  // 2023-11-14T22:13:20Z unless told otherwise.
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1700000000)) : now_(start) {}

  absl::Time Now() const {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  // `d` may be negative: a clock stepped back.
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }
  void Set(absl::Time t) {
    absl::MutexLock lock(&mu_);
    now_ = t;
  }
  // The clock as the code under test takes it; it must not outlive this clock.
  std::function<absl::Time()> AsFunction() {
    return [this] { return Now(); };
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_TESTING_FAKE_CLOCK_H_
