#include "services/pricing/fetch_lanes.h"

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace marketdata {
namespace {

FetchLaneOptions Lanes(int threads, size_t max_queued, absl::Duration budget) {
  FetchLaneOptions options;
  options.threads = threads;
  options.max_queued = max_queued;
  options.budget = budget;
  return options;
}

TEST(FetchLanesTest, AHungProviderHoldsOnlyItsOwnLane) {
  FetchLanes lanes(Lanes(1, 4, absl::Seconds(5)));
  absl::Notification hung, release;
  ASSERT_TRUE(lanes.TrySchedule("slow", [&](absl::Time) {
    hung.Notify();
    release.WaitForNotification();
  }));
  hung.WaitForNotification();
  absl::Notification fetched;
  ASSERT_TRUE(lanes.TrySchedule("fast", [&](absl::Time) { fetched.Notify(); }));
  EXPECT_TRUE(fetched.WaitForNotificationWithTimeout(absl::Seconds(10)));
  release.Notify();
}

TEST(FetchLanesTest, AFullLaneRefusesWhileOthersStillAccept) {
  FetchLanes lanes(Lanes(1, 1, absl::Seconds(5)));
  absl::Notification hung, release;
  ASSERT_TRUE(lanes.TrySchedule("slow", [&](absl::Time) {
    hung.Notify();
    release.WaitForNotification();
  }));
  hung.WaitForNotification();
  ASSERT_TRUE(lanes.TrySchedule("slow", [](absl::Time) {}));   // waits for the one thread
  EXPECT_FALSE(lanes.TrySchedule("slow", [](absl::Time) {}));  // the queue is full
  absl::Notification fetched;
  EXPECT_TRUE(lanes.TrySchedule("fast", [&](absl::Time) { fetched.Notify(); }));
  EXPECT_TRUE(fetched.WaitForNotificationWithTimeout(absl::Seconds(10)));
  release.Notify();
}

TEST(FetchLanesTest, TheDeadlineCountsFromSchedulingSoQueueingUsesTheBudget) {
  const absl::Duration budget = absl::Milliseconds(300);
  FetchLanes lanes(Lanes(1, 4, budget));
  absl::Notification hung, release, ran;
  ASSERT_TRUE(lanes.TrySchedule("p", [&](absl::Time) {
    hung.Notify();
    release.WaitForNotification();
  }));
  hung.WaitForNotification();
  const absl::Time before = absl::Now();
  absl::Time deadline, started;
  ASSERT_TRUE(lanes.TrySchedule("p", [&](absl::Time d) {
    deadline = d;
    started = absl::Now();
    ran.Notify();
  }));
  const absl::Time after = absl::Now();
  absl::SleepFor(budget);  // the queued fetch waits out its whole budget behind the hung one
  release.Notify();
  ASSERT_TRUE(ran.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_GE(deadline, before + budget);
  EXPECT_LE(deadline, after + budget);
  EXPECT_GE(started, deadline);  // so the fetch knows it has nothing left
}

TEST(FetchLanesTest, StopRunsWhatIsQueued) {
  FetchLanes lanes(Lanes(1, 8, absl::Seconds(5)));
  int ran = 0;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(lanes.TrySchedule("p", [&](absl::Time) { ++ran; }));
  lanes.Stop();
  EXPECT_EQ(ran, 5);
}

}  // namespace
}  // namespace marketdata
