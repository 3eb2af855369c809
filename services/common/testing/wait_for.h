// WaitFor: polls `done` until it holds or `timeout` passes, for code under test that has no
// change notification to wait on. The deadline turns a hang into a failed assertion:
//   ASSERT_TRUE(WaitFor([&] { return store.renewals() >= 1; }));
#ifndef MARKETDATA_SERVICES_COMMON_TESTING_WAIT_FOR_H_
#define MARKETDATA_SERVICES_COMMON_TESTING_WAIT_FOR_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace marketdata {

// True as soon as `done()` returns true, checked every `poll_every`; false when it still does
// not after `timeout`.
template <typename Fn>
bool WaitFor(Fn&& done, absl::Duration timeout = absl::Seconds(30),
             absl::Duration poll_every = absl::Milliseconds(5)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(poll_every);
  }
  return true;
}

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_COMMON_TESTING_WAIT_FOR_H_
