#include "services/pricing/shared_calls.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/domain/test_prices.h"

namespace marketdata {
namespace {

// Calls that end only when the test says so; the n-th call made answers a price with id n.
class HeldCalls {
 public:
  SharedCalls::Call call() {
    return [this](std::function<bool()> abandoned, SharedCalls::Done finish) {
      absl::MutexLock lock(&mu_);
      abandoned_.push_back(std::move(abandoned));
      pending_.push_back(std::move(finish));
    };
  }
  size_t made() {
    absl::MutexLock lock(&mu_);
    return pending_.size();
  }
  // Ends call `n` (1-based).
  void End(size_t n) {
    SharedCalls::Done finish;
    {
      absl::MutexLock lock(&mu_);
      finish = pending_[n - 1];
    }
    finish(TestPrice("AAPL", static_cast<int64_t>(n), 100, absl::Now()));
  }
  bool Abandoned(size_t n) {
    absl::MutexLock lock(&mu_);
    return abandoned_[n - 1]();
  }

 private:
  absl::Mutex mu_;
  std::vector<SharedCalls::Done> pending_;
  std::vector<std::function<bool()>> abandoned_;
};

// The ids each request got, 0 while it waits.
struct Answers {
  std::vector<int64_t> ids;
  SharedCalls::Done For(size_t i) {
    return [this, i](SharedCalls::Result r) { ids[i] = r.ok() ? r->price_point_id : -1; };
  }
};

TEST(SharedCallsTest, RequestsArrivingDuringACallShareTheNextOneNotTheRunningOne) {
  SharedCalls calls;
  HeldCalls provider;
  Answers answers{std::vector<int64_t>(5, 0)};
  calls.Join("test/AAPL", answers.For(0), {}, provider.call());
  ASSERT_EQ(provider.made(), 1u);
  // Four more arrive while the first call runs: they must not get its (older) result.
  for (size_t i = 1; i < 5; ++i) calls.Join("test/AAPL", answers.For(i), {}, provider.call());
  EXPECT_EQ(provider.made(), 1u) << "the next call waits for the running one";
  provider.End(1);
  EXPECT_EQ(answers.ids, (std::vector<int64_t>{1, 0, 0, 0, 0}));
  ASSERT_EQ(provider.made(), 2u) << "the next call starts as the running one ends";
  provider.End(2);
  EXPECT_EQ(answers.ids, (std::vector<int64_t>{1, 2, 2, 2, 2}));
  EXPECT_EQ(calls.calls(), 2);
  EXPECT_EQ(calls.shared(), 3);
  // Nothing runs now: the next request calls at once.
  Answers later{std::vector<int64_t>(1, 0)};
  calls.Join("test/AAPL", later.For(0), {}, provider.call());
  EXPECT_EQ(provider.made(), 3u);
}

TEST(SharedCallsTest, KeysDoNotShare) {
  SharedCalls calls;
  HeldCalls provider;
  Answers answers{std::vector<int64_t>(2, 0)};
  calls.Join("test/AAPL", answers.For(0), {}, provider.call());
  calls.Join("test/MSFT", answers.For(1), {}, provider.call());
  EXPECT_EQ(provider.made(), 2u);
}

TEST(SharedCallsTest, ACallIsAbandonedOnlyWhenEveryRequestOfItGaveUp) {
  SharedCalls calls;
  HeldCalls provider;
  Answers answers{std::vector<int64_t>(3, 0)};
  std::atomic<bool> first_gone{false}, second_gone{false};
  calls.Join("k", answers.For(0), [] { return false; }, provider.call());
  calls.Join("k", answers.For(1), [&] { return first_gone.load(); }, provider.call());
  calls.Join("k", answers.For(2), [&] { return second_gone.load(); }, provider.call());
  provider.End(1);
  ASSERT_EQ(provider.made(), 2u);
  EXPECT_FALSE(provider.Abandoned(2));
  first_gone = true;
  EXPECT_FALSE(provider.Abandoned(2));
  second_gone = true;
  EXPECT_TRUE(provider.Abandoned(2));
}

// Many threads, calls that end on another thread: every request gets a call that began after it
// arrived, and calls stay far fewer than requests.
TEST(SharedCallsTest, UnderConcurrencyEveryAnswerIsNewerThanItsRequest) {
  SharedCalls calls;
  std::atomic<int64_t> started{0};
  std::vector<std::thread> runners;
  absl::Mutex mu;
  SharedCalls::Call call = [&](std::function<bool()>, SharedCalls::Done finish) {
    const int64_t n = ++started;
    absl::MutexLock lock(&mu);
    runners.emplace_back([n, finish = std::move(finish)] {
      absl::SleepFor(absl::Microseconds(200));
      finish(TestPrice("AAPL", n, 100, absl::Now()));
    });
  };
  constexpr int kThreads = 16, kEach = 200;
  std::atomic<int> stale{0}, answered{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        const int64_t before = started.load();  // calls begun before this request
        absl::Notification got;
        calls.Join("test/AAPL", [&](SharedCalls::Result r) {
          if (!r.ok() || r->price_point_id <= before) ++stale;
          ++answered;
          got.Notify();
        }, {}, call);
        got.WaitForNotification();
      }
    });
  }
  for (std::thread& c : clients) c.join();
  // Every request is answered: no call starts any more.
  std::vector<std::thread> done;
  {
    absl::MutexLock lock(&mu);
    done.swap(runners);
  }
  for (std::thread& r : done) r.join();
  EXPECT_EQ(answered.load(), kThreads * kEach);
  EXPECT_EQ(stale.load(), 0);
  EXPECT_LT(calls.calls(), kThreads * kEach / 2) << "requests share calls";
  EXPECT_EQ(calls.calls() + calls.shared(), kThreads * kEach)
      << "every request either started a call or shared one";
}

}  // namespace
}  // namespace marketdata
