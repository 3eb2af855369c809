#include "services/common/runtime/circuit_breaker.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/barrier.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "services/common/grpc/errors.h"
#include "services/common/testing/fake_clock.h"

namespace marketdata {
namespace {

using State = CircuitBreaker::State;

CircuitBreaker::Options Finnhub() {
  CircuitBreaker::Options options;
  options.failures_to_open = 5;
  options.cool_down = absl::Seconds(5);
  options.name = "finnhub";
  return options;
}

void Fail(CircuitBreaker& breaker, int times) {
  for (int i = 0; i < times; ++i) {
    ASSERT_TRUE(breaker.Allow().ok());
    breaker.Record(/*failed=*/true);
  }
}

TEST(CircuitBreakerTest, StateNames) {
  EXPECT_EQ(StateName(State::kClosed), "closed");
  EXPECT_EQ(StateName(State::kOpen), "open");
  EXPECT_EQ(StateName(State::kHalfOpen), "half_open");
}

TEST(CircuitBreakerTest, OpensAfterConsecutiveFailures) {
  FakeClock clock;
  CircuitBreaker breaker(Finnhub(), clock.AsFunction());
  EXPECT_EQ(breaker.state(), State::kClosed);
  Fail(breaker, 4);
  EXPECT_EQ(breaker.state(), State::kClosed);
  EXPECT_EQ(breaker.next_probe_in(), absl::ZeroDuration());
  Fail(breaker, 1);
  EXPECT_EQ(breaker.state(), State::kOpen);
  EXPECT_EQ(breaker.opened_count(), 1);
  EXPECT_EQ(breaker.next_probe_in(), absl::Seconds(5));
}

TEST(CircuitBreakerTest, ASuccessResetsTheCount) {
  FakeClock clock;
  CircuitBreaker breaker(Finnhub(), clock.AsFunction());
  for (int round = 0; round < 10; ++round) {
    Fail(breaker, 4);
    ASSERT_TRUE(breaker.Allow().ok());
    breaker.Record(/*failed=*/false);
  }
  EXPECT_EQ(breaker.state(), State::kClosed);
  EXPECT_EQ(breaker.opened_count(), 0);
}

TEST(CircuitBreakerTest, FailsFastWhileOpen) {
  FakeClock clock;
  CircuitBreaker breaker(Finnhub(), clock.AsFunction());
  Fail(breaker, 5);
  clock.Advance(absl::Milliseconds(1900));
  const absl::Status refused = breaker.Allow();
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(refused.message(),
            "finnhub is failing: circuit open after 5 consecutive failures; next probe in 3.1 s");
  auto advice = RetryAdviceOf(refused);
  ASSERT_TRUE(advice.has_value());
  EXPECT_EQ(advice->retry_after, absl::Milliseconds(3100));
  EXPECT_EQ(advice->limit, 0);
  EXPECT_EQ(breaker.next_probe_in(), absl::Milliseconds(3100));
  EXPECT_EQ(breaker.state(), State::kOpen);

  clock.Advance(absl::Milliseconds(3100) - absl::Nanoseconds(1));
  EXPECT_FALSE(breaker.Allow().ok());
  clock.Advance(absl::Nanoseconds(1));
  EXPECT_TRUE(breaker.Allow().ok());  // the probe
  EXPECT_EQ(breaker.state(), State::kHalfOpen);
}

TEST(CircuitBreakerTest, ExactlyOneProbeAmongSixteenThreads) {
  FakeClock clock;
  CircuitBreaker breaker(Finnhub(), clock.AsFunction());
  Fail(breaker, 5);
  clock.Advance(absl::Seconds(5));
  constexpr int kThreads = 16;
  std::atomic<int> allowed{0};
  std::atomic<int> refused_unavailable{0};
  absl::Barrier* start = new absl::Barrier(kThreads);  // deletes itself
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      if (start->Block()) delete start;
      for (int i = 0; i < 50; ++i) {
        const absl::Status status = breaker.Allow();
        if (status.ok()) {
          allowed.fetch_add(1);
        } else if (status.code() == absl::StatusCode::kUnavailable) {
          refused_unavailable.fetch_add(1);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(allowed.load(), 1);
  EXPECT_EQ(refused_unavailable.load(), kThreads * 50 - 1);
  EXPECT_EQ(breaker.state(), State::kHalfOpen);
}

TEST(CircuitBreakerTest, OthersFailFastWhileTheProbeIsOut) {
  FakeClock clock;
  CircuitBreaker breaker(Finnhub(), clock.AsFunction());
  Fail(breaker, 5);
  clock.Advance(absl::Seconds(5));
  ASSERT_TRUE(breaker.Allow().ok());
  clock.Advance(absl::Seconds(2));
  const absl::Status refused = breaker.Allow();
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(RetryAdviceOf(refused)->retry_after, absl::Seconds(3));
  EXPECT_EQ(breaker.next_probe_in(), absl::Seconds(3));
}

TEST(CircuitBreakerTest, ProbeSuccessCloses) {
  FakeClock clock;
  CircuitBreaker breaker(Finnhub(), clock.AsFunction());
  Fail(breaker, 5);
  clock.Advance(absl::Seconds(5));
  ASSERT_TRUE(breaker.Allow().ok());
  breaker.Record(/*failed=*/false);
  EXPECT_EQ(breaker.state(), State::kClosed);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(breaker.Allow().ok());
  // The count started again: it takes five new failures to open.
  Fail(breaker, 4);
  EXPECT_EQ(breaker.state(), State::kClosed);
  Fail(breaker, 1);
  EXPECT_EQ(breaker.state(), State::kOpen);
  EXPECT_EQ(breaker.opened_count(), 2);
}

TEST(CircuitBreakerTest, ProbeFailureReopensForAFullCoolDown) {
  FakeClock clock;
  CircuitBreaker breaker(Finnhub(), clock.AsFunction());
  Fail(breaker, 5);
  clock.Advance(absl::Seconds(5));
  ASSERT_TRUE(breaker.Allow().ok());
  clock.Advance(absl::Seconds(1));  // the probe takes a second to fail
  breaker.Record(/*failed=*/true);
  EXPECT_EQ(breaker.state(), State::kOpen);
  EXPECT_EQ(breaker.opened_count(), 2);
  const absl::Status refused = breaker.Allow();
  EXPECT_EQ(RetryAdviceOf(refused)->retry_after, absl::Seconds(5));
  EXPECT_EQ(refused.message(),
            "finnhub is failing: circuit open after 6 consecutive failures; next probe in 5.0 s");
  clock.Advance(absl::Seconds(5) - absl::Nanoseconds(1));
  EXPECT_FALSE(breaker.Allow().ok());
  clock.Advance(absl::Nanoseconds(1));
  EXPECT_TRUE(breaker.Allow().ok());
  EXPECT_EQ(breaker.state(), State::kHalfOpen);
}

TEST(CircuitBreakerTest, ReportsEveryChangeInOrder) {
  FakeClock clock;
  std::vector<std::string> changes;
  CircuitBreaker breaker(Finnhub(), clock.AsFunction(), [&](State from, State to) {
    changes.push_back(absl::StrCat(StateName(from), "->", StateName(to)));
  });
  Fail(breaker, 5);
  clock.Advance(absl::Seconds(5));
  ASSERT_TRUE(breaker.Allow().ok());
  breaker.Record(/*failed=*/true);
  clock.Advance(absl::Seconds(5));
  ASSERT_TRUE(breaker.Allow().ok());
  breaker.Record(/*failed=*/false);
  EXPECT_EQ(changes, (std::vector<std::string>{"closed->open", "open->half_open",
                                               "half_open->open", "open->half_open",
                                               "half_open->closed"}));
}

TEST(CircuitBreakerTest, OnChangeMayCallBackIntoTheBreaker) {
  FakeClock clock;
  CircuitBreaker* self = nullptr;
  std::vector<State> seen;
  CircuitBreaker breaker(Finnhub(), clock.AsFunction(), [&](State, State to) {
    EXPECT_EQ(self->state(), to);  // not under the breaker's lock
    seen.push_back(to);
  });
  self = &breaker;
  Fail(breaker, 5);
  EXPECT_EQ(seen, std::vector<State>{State::kOpen});
}

TEST(CircuitBreakerTest, ChangesFromManyThreadsArriveInOrder) {
  FakeClock clock;
  absl::Mutex mu;
  std::vector<std::pair<State, State>> changes;
  CircuitBreaker::Options options = Finnhub();
  options.failures_to_open = 1;
  options.cool_down = absl::ZeroDuration();  // every Allow() after an opening is a probe
  CircuitBreaker breaker(options, clock.AsFunction(), [&](State from, State to) {
    absl::MutexLock lock(&mu);
    changes.emplace_back(from, to);
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        if (breaker.Allow().ok()) breaker.Record(/*failed=*/(i + t) % 3 != 0);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  absl::MutexLock lock(&mu);
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes.front().first, State::kClosed);
  for (size_t i = 1; i < changes.size(); ++i) {
    ASSERT_EQ(changes[i].first, changes[i - 1].second) << "change " << i;
  }
  EXPECT_EQ(changes.back().second, breaker.state());
}

TEST(CircuitBreakerTest, ALostProbeDoesNotWedgeIt) {
  FakeClock clock;
  CircuitBreaker breaker(Finnhub(), clock.AsFunction());
  Fail(breaker, 5);
  clock.Advance(absl::Seconds(5));
  ASSERT_TRUE(breaker.Allow().ok());  // this probe never reports
  clock.Advance(absl::Seconds(4));
  EXPECT_FALSE(breaker.Allow().ok());
  EXPECT_EQ(breaker.next_probe_in(), absl::Seconds(1));
  clock.Advance(absl::Seconds(1));
  EXPECT_TRUE(breaker.Allow().ok());  // a new probe
  EXPECT_FALSE(breaker.Allow().ok());  // and only one
  EXPECT_EQ(breaker.state(), State::kHalfOpen);
  breaker.Record(/*failed=*/false);
  EXPECT_EQ(breaker.state(), State::kClosed);
}

TEST(CircuitBreakerTest, ReportsWhileOpenAreIgnored) {
  FakeClock clock;
  CircuitBreaker breaker(Finnhub(), clock.AsFunction());
  Fail(breaker, 5);
  breaker.Record(/*failed=*/false);  // a call let through before it opened
  EXPECT_EQ(breaker.state(), State::kOpen);
  EXPECT_EQ(breaker.next_probe_in(), absl::Seconds(5));
}

}  // namespace
}  // namespace marketdata

namespace marketdata {
namespace {

TEST(CircuitBreakerReleaseTest, AProbeThatWasNotMadeIsNotWaitedFor) {
  FakeClock clock;
  CircuitBreaker breaker({1, absl::Seconds(10), "p"}, clock.AsFunction());
  ASSERT_TRUE(breaker.Allow().ok());
  breaker.Record(true);
  clock.Advance(absl::Seconds(10));
  ASSERT_TRUE(breaker.Allow().ok());  // the probe
  EXPECT_FALSE(breaker.Allow().ok());
  breaker.Release();  // it was never sent
  EXPECT_TRUE(breaker.Allow().ok());  // another caller probes at once
  breaker.Record(false);
  EXPECT_EQ(breaker.state(), CircuitBreaker::State::kClosed);
  // Released while closed: nothing changes.
  breaker.Release();
  EXPECT_EQ(breaker.state(), CircuitBreaker::State::kClosed);
}

}  // namespace
}  // namespace marketdata
