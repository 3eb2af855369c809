#include "services/common/runtime/periodic_loop.h"

#include <atomic>

#include "absl/synchronization/blocking_counter.h"
#include "gtest/gtest.h"

namespace marketdata {
namespace {

TEST(PeriodicLoopTest, TicksUntilStoppedAndStopsAtOnce) {
  std::atomic<int> ticks{0};
  absl::BlockingCounter three(3);
  PeriodicLoop loop(absl::Milliseconds(1), [&] {
    if (ticks.fetch_add(1) < 3) three.DecrementCount();
  });
  loop.Start();
  three.Wait();
  loop.Stop();
  const int after_stop = ticks.load();
  EXPECT_GE(after_stop, 3);
  loop.Stop();  // idempotent
  EXPECT_EQ(ticks.load(), after_stop);
}

TEST(PeriodicLoopTest, StopDoesNotWaitForThePeriod) {
  absl::Notification ticked;
  PeriodicLoop loop(absl::Hours(1), [&] {
    if (!ticked.HasBeenNotified()) ticked.Notify();
  });
  loop.Start();
  ticked.WaitForNotification();
  const absl::Time before = absl::Now();
  loop.Stop();
  EXPECT_LT(absl::Now() - before, absl::Seconds(10));  // not an hour
}

TEST(PeriodicLoopTest, StartedAfterAPeriodItFirstTicksAPeriodLater) {
  std::atomic<int> ticks{0};
  absl::Notification ticked;
  PeriodicLoop late(absl::Hours(1), [&] { ticks.fetch_add(1); });
  late.StartAfterAPeriod();
  late.Stop();  // wakes it during its first wait: it never ticked
  EXPECT_EQ(ticks.load(), 0);
  PeriodicLoop soon(absl::Milliseconds(1), [&] {
    if (ticks.fetch_add(1) == 0) ticked.Notify();
  });
  soon.StartAfterAPeriod();
  ticked.WaitForNotification();
  soon.Stop();
  EXPECT_GE(ticks.load(), 1);
}

TEST(PeriodicLoopTest, StopWithoutStartIsHarmless) {
  PeriodicLoop loop(absl::Seconds(1), [] {});
  loop.Stop();
}

}  // namespace
}  // namespace marketdata
