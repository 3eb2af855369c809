#include "services/common/runtime/thread_pool.h"

#include <atomic>
#include <memory>
#include <thread>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace marketdata {
namespace {

TEST(ThreadPoolTest, RunsEveryScheduledCallBeforeItIsDestroyed) {
  std::atomic<int> ran{0};
  {
    ThreadPool pool(3);
    for (int i = 0; i < 1000; ++i) pool.Schedule([&ran] { ran.fetch_add(1); });
  }
  EXPECT_EQ(ran.load(), 1000);
}

TEST(ThreadPoolTest, BlockedWorkDoesNotStopTheOtherThreads) {
  ThreadPool pool(2);
  absl::Notification release, second_ran;
  pool.Schedule([&release] { release.WaitForNotification(); });
  pool.Schedule([&second_ran] { second_ran.Notify(); });
  EXPECT_TRUE(second_ran.WaitForNotificationWithTimeout(absl::Seconds(10)));
  release.Notify();
}

TEST(ThreadPoolTest, CountsWorkWaitingForAThread) {
  auto pool = std::make_unique<ThreadPool>(1);
  absl::Notification started, release;
  pool->Schedule([&] {
    started.Notify();
    release.WaitForNotification();
  });
  started.WaitForNotification();
  pool->Schedule([] {});
  pool->Schedule([] {});
  EXPECT_EQ(pool->queued(), 2u);
  release.Notify();
  pool.reset();
}

TEST(ThreadPoolTest, StopRunsWhatWasQueuedAndLaterWorkRunsOnTheCaller) {
  ThreadPool pool(1);
  std::atomic<int> ran{0};
  for (int i = 0; i < 100; ++i) pool.Schedule([&ran] { ran.fetch_add(1); });
  pool.Stop();
  EXPECT_EQ(ran.load(), 100);
  std::thread::id ran_on;
  pool.Schedule([&ran_on] { ran_on = std::this_thread::get_id(); });
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  pool.Stop();  // idempotent
}

TEST(ThreadPoolTest, TryScheduleRefusesBeyondTheQueueBound) {
  ThreadPool pool(1, 2);
  absl::Notification release, started;
  std::function<void()> hold = [&] {
    started.Notify();
    release.WaitForNotification();
  };
  ASSERT_TRUE(pool.TrySchedule(hold));
  started.WaitForNotification();
  std::atomic<int> ran{0};
  std::function<void()> a = [&] { ran.fetch_add(1); }, b = a, c = a;
  EXPECT_TRUE(pool.TrySchedule(a));
  EXPECT_TRUE(pool.TrySchedule(b));
  EXPECT_FALSE(pool.TrySchedule(c));  // two already wait
  release.Notify();
  pool.Stop();
  EXPECT_EQ(ran.load(), 2);
}

}  // namespace
}  // namespace marketdata
