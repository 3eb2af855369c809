#include "services/common/runtime/call_quota.h"

#include <atomic>
#include <cstdint>
#include <limits>
#include <random>
#include <thread>
#include <vector>

#include "absl/synchronization/barrier.h"
#include "gtest/gtest.h"
#include "services/common/grpc/errors.h"
#include "services/common/testing/fake_clock.h"

namespace marketdata {
namespace {

constexpr double kNoMinuteLimit = std::numeric_limits<double>::infinity();

absl::Time Utc(const char* text) {
  absl::Time t;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, text, &t, &error)) << error;
  return t;
}

CallQuota::Options PerMinute(double per_minute, int64_t per_day = 0) {
  CallQuota::Options options;
  options.per_minute = per_minute;
  options.per_day = per_day;
  options.name = "alpha_vantage";
  return options;
}

RetryAdvice AdviceOf(const absl::Status& status) {
  auto advice = RetryAdviceOf(status);
  EXPECT_TRUE(advice.has_value()) << status;
  return advice.value_or(RetryAdvice{});
}

TEST(CallQuotaTest, FivePerMinuteLetsFiveThroughThenSaysExactlyWhen) {
  FakeClock clock;
  CallQuota quota(PerMinute(5), clock.AsFunction());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(quota.Acquire().ok()) << i;
  clock.Advance(absl::Milliseconds(52800));
  const absl::Status refused = quota.Acquire();
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.message(),
            "alpha_vantage: 5 calls a minute used; next call allowed in 7.2 s");
  EXPECT_EQ(AdviceOf(refused).retry_after, absl::Milliseconds(7200));
  EXPECT_EQ(AdviceOf(refused).limit, 5);
  EXPECT_EQ(quota.state().next_call_in, absl::Milliseconds(7200));
  EXPECT_EQ(quota.state().minute_left, 0);

  clock.Advance(absl::Milliseconds(7199));
  EXPECT_FALSE(quota.Acquire().ok());
  clock.Advance(absl::Milliseconds(1));
  EXPECT_TRUE(quota.Acquire().ok());
}

TEST(CallQuotaTest, TheWindowSlidesWithTheOldestCall) {
  FakeClock clock;
  CallQuota quota(PerMinute(5), clock.AsFunction());
  for (int i = 0; i < 5; ++i) {  // at 0, 10, 20, 30, 40 s
    ASSERT_TRUE(quota.Acquire().ok());
    clock.Advance(absl::Seconds(10));
  }
  clock.Advance(absl::Seconds(9));  // 59 s
  EXPECT_EQ(AdviceOf(quota.Acquire()).retry_after, absl::Seconds(1));
  clock.Advance(absl::Seconds(1));  // 60 s: the call at 0 has left the window
  EXPECT_TRUE(quota.Acquire().ok());
  EXPECT_EQ(AdviceOf(quota.Acquire()).retry_after, absl::Seconds(10));  // the call at 10 s
  clock.Advance(absl::Seconds(15));  // 75 s: the call at 10 s has left, the one at 20 s not yet
  EXPECT_EQ(quota.state().minute_left, 1);
  EXPECT_TRUE(quota.Acquire().ok());
  EXPECT_EQ(AdviceOf(quota.Acquire()).retry_after, absl::Seconds(5));
}

// Attempts at random instants; the accepted times are replayed to check that no window of the
// configured length ever held more than k calls, and every refusal is checked to be exact: one
// nanosecond before retry_after is still refused, retry_after itself is accepted.
void CheckRandomisedRun(double per_minute, int64_t k, absl::Duration window, uint32_t seed) {
  FakeClock clock;
  CallQuota quota(PerMinute(per_minute), clock.AsFunction());
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> gap_ms(0, 30000);
  std::uniform_int_distribution<int> burst(0, 9);
  std::vector<absl::Time> accepted;
  int refusals = 0;
  for (int attempt = 0; attempt < 20000; ++attempt) {
    // Mostly short gaps, sometimes several attempts at the same instant.
    if (burst(random) != 0) clock.Advance(absl::Milliseconds(gap_ms(random) / 5));
    const absl::Status status = quota.Acquire();
    if (status.ok()) {
      accepted.push_back(clock.Now());
      continue;
    }
    ++refusals;
    ASSERT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
    const RetryAdvice advice = AdviceOf(status);
    ASSERT_GT(advice.retry_after, absl::ZeroDuration());
    ASSERT_EQ(advice.limit, k);
    if (attempt % 7 == 0) {
      clock.Advance(advice.retry_after - absl::Nanoseconds(1));
      ASSERT_FALSE(quota.Acquire().ok());
      clock.Advance(absl::Nanoseconds(1));
      ASSERT_TRUE(quota.Acquire().ok());
      accepted.push_back(clock.Now());
    }
  }
  EXPECT_GT(refusals, 1000);  // the limit was really tested
  ASSERT_GT(accepted.size(), static_cast<size_t>(k));
  for (size_t i = 0; i + k < accepted.size(); ++i) {
    // Call i + k may only come once call i has left the window [t, t + window).
    ASSERT_GE(accepted[i + k] - accepted[i], window) << "calls " << i << " to " << i + k;
  }
}

TEST(CallQuotaTest, NeverMoreThanTheLimitInAnyWindowOverARandomisedRun) {
  CheckRandomisedRun(5, 5, absl::Seconds(60), 1);
  CheckRandomisedRun(7, 7, absl::Seconds(60), 2);
  CheckRandomisedRun(2.5, 2, absl::Seconds(48), 3);
}

TEST(CallQuotaTest, FractionalLimits) {
  {
    FakeClock clock;
    CallQuota quota(PerMinute(0.5), clock.AsFunction());  // one call per 120 s
    EXPECT_TRUE(quota.Acquire().ok());
    const absl::Status refused = quota.Acquire();
    EXPECT_EQ(AdviceOf(refused).retry_after, absl::Seconds(120));
    EXPECT_EQ(AdviceOf(refused).limit, 1);
    EXPECT_EQ(refused.message(),
              "alpha_vantage: 1 call per 120 s (0.5 a minute) used; next call allowed in 120.0 s");
    clock.Advance(absl::Seconds(120));
    EXPECT_TRUE(quota.Acquire().ok());
  }
  {
    FakeClock clock;
    CallQuota quota(PerMinute(1.5), clock.AsFunction());  // one call per 40 s
    EXPECT_TRUE(quota.Acquire().ok());
    EXPECT_EQ(AdviceOf(quota.Acquire()).retry_after, absl::Seconds(40));
    clock.Advance(absl::Seconds(40));
    EXPECT_TRUE(quota.Acquire().ok());
  }
  {
    FakeClock clock;
    CallQuota quota(PerMinute(2.5), clock.AsFunction());  // two calls per 48 s
    EXPECT_TRUE(quota.Acquire().ok());
    EXPECT_TRUE(quota.Acquire().ok());
    EXPECT_EQ(AdviceOf(quota.Acquire()).retry_after, absl::Seconds(48));
    EXPECT_EQ(quota.state().per_minute, 2.5);
  }
}

TEST(CallQuotaTest, VeryHighLimitsKeepAtMostThePerMinuteCountInAnyMinute) {
  FakeClock clock;
  CallQuota quota(PerMinute(25000), clock.AsFunction());  // 3 windows of 20 s, 8333 calls each
  int granted = 0;
  while (quota.Acquire().ok()) ++granted;
  EXPECT_EQ(granted, 8333);
  EXPECT_EQ(AdviceOf(quota.Acquire()).retry_after, absl::Seconds(20));
  EXPECT_EQ(AdviceOf(quota.Acquire()).limit, 8333);
}

TEST(CallQuotaTest, DailyQuotaRefusesUntilMidnightUtc) {
  FakeClock clock(Utc("2026-12-06T23:00:00Z"));
  CallQuota quota(PerMinute(kNoMinuteLimit, 25), clock.AsFunction());
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(quota.Acquire().ok()) << i;
  EXPECT_EQ(quota.state().day_left, 0);
  const absl::Status refused = quota.Acquire();
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.message(),
            "alpha_vantage: daily quota of 25 calls used; it resets at 2026-12-07T00:00:00Z");
  EXPECT_EQ(AdviceOf(refused).retry_after, absl::Hours(1));
  EXPECT_EQ(AdviceOf(refused).limit, 25);
  EXPECT_EQ(quota.state().day_resets_at, Utc("2026-12-07T00:00:00Z"));
  EXPECT_EQ(quota.state().next_call_in, absl::Hours(1));

  clock.Advance(absl::Hours(1) - absl::Nanoseconds(1));
  EXPECT_FALSE(quota.Acquire().ok());
  clock.Advance(absl::Nanoseconds(1));  // 00:00 UTC
  EXPECT_EQ(quota.state().day_left, 25);
  EXPECT_TRUE(quota.Acquire().ok());
  EXPECT_EQ(quota.state().day_left, 24);
  EXPECT_EQ(quota.state().day_resets_at, Utc("2026-12-08T00:00:00Z"));
}

TEST(CallQuotaTest, SeedCountsCallsAlreadyMadeToday) {
  FakeClock clock(Utc("2026-12-06T12:00:00Z"));
  CallQuota quota(PerMinute(kNoMinuteLimit, 25), clock.AsFunction());
  quota.Seed(24);
  EXPECT_EQ(quota.state().day_left, 1);
  EXPECT_TRUE(quota.Acquire().ok());
  EXPECT_EQ(AdviceOf(quota.Acquire()).retry_after, absl::Hours(12));
  quota.Seed(40);  // more than the quota (another process used it): still just refused
  EXPECT_EQ(quota.state().day_left, 0);
  EXPECT_FALSE(quota.Acquire().ok());
  quota.Seed(0);
  EXPECT_TRUE(quota.Acquire().ok());
}

TEST(CallQuotaTest, BothExhaustedAdvisesTheLaterOfTheTwo) {
  {  // Midday: the day is the later.
    FakeClock clock(Utc("2026-12-06T12:00:00Z"));
    CallQuota quota(PerMinute(5, 5), clock.AsFunction());
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(quota.Acquire().ok());
    const absl::Status refused = quota.Acquire();
    EXPECT_EQ(AdviceOf(refused).retry_after, absl::Hours(12));
    EXPECT_EQ(AdviceOf(refused).limit, 5);
    EXPECT_NE(refused.message().find("daily quota"), absl::string_view::npos) << refused;
  }
  {  // Just before midnight: the minute is the later.
    FakeClock clock(Utc("2026-12-06T23:59:30Z"));
    CallQuota quota(PerMinute(5, 100), clock.AsFunction());
    quota.Seed(95);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(quota.Acquire().ok());
    const absl::Status refused = quota.Acquire();
    EXPECT_EQ(AdviceOf(refused).retry_after, absl::Seconds(60));
    EXPECT_EQ(AdviceOf(refused).limit, 5);
    EXPECT_NE(refused.message().find("a minute"), absl::string_view::npos) << refused;
    clock.Advance(absl::Seconds(30));  // after midnight the day is fine, the minute still not
    EXPECT_EQ(AdviceOf(quota.Acquire()).retry_after, absl::Seconds(30));
    clock.Advance(absl::Seconds(30));
    EXPECT_TRUE(quota.Acquire().ok());
  }
}

TEST(CallQuotaTest, RefusedCallsTakeNothing) {
  FakeClock clock(Utc("2026-12-06T12:00:00Z"));
  CallQuota quota(PerMinute(1, 10), clock.AsFunction());
  EXPECT_TRUE(quota.Acquire().ok());
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(quota.Acquire().ok());
  EXPECT_EQ(quota.state().day_left, 9);
  clock.Advance(absl::Seconds(60));
  EXPECT_TRUE(quota.Acquire().ok());
  EXPECT_EQ(quota.state().day_left, 8);
}

// 16 threads at one frozen instant: exactly the limit gets through.
int GrantedUnderContention(CallQuota& quota) {
  constexpr int kThreads = 16;
  std::atomic<int> granted{0};
  absl::Barrier* start = new absl::Barrier(kThreads);  // deletes itself
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      if (start->Block()) delete start;
      for (int i = 0; i < 200; ++i) {
        if (quota.Acquire().ok()) granted.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  return granted.load();
}

TEST(CallQuotaTest, ConcurrentCallersGetExactlyTheLimit) {
  FakeClock clock;
  CallQuota per_minute(PerMinute(50), clock.AsFunction());
  EXPECT_EQ(GrantedUnderContention(per_minute), 50);
  CallQuota per_day(PerMinute(kNoMinuteLimit, 300), clock.AsFunction());
  EXPECT_EQ(GrantedUnderContention(per_day), 300);
  CallQuota both(PerMinute(1000, 700), clock.AsFunction());
  EXPECT_EQ(GrantedUnderContention(both), 700);
}

TEST(CallQuotaTest, NoLimitsNeverRefuse) {
  CallQuota quota(PerMinute(kNoMinuteLimit, 0));
  for (int i = 0; i < 100000; ++i) ASSERT_TRUE(quota.Acquire().ok());
  const CallQuota::QuotaState state = quota.state();
  EXPECT_TRUE(std::isinf(state.per_minute));
  EXPECT_EQ(state.minute_left, CallQuota::kUnlimited);
  EXPECT_EQ(state.per_day, 0);
  EXPECT_EQ(state.day_left, -1);
  EXPECT_EQ(state.next_call_in, absl::ZeroDuration());
}

TEST(CallQuotaTest, StateCountsTheWindow) {
  FakeClock clock(Utc("2026-12-06T12:00:00Z"));
  CallQuota quota(PerMinute(5, 25), clock.AsFunction());
  CallQuota::QuotaState state = quota.state();
  EXPECT_EQ(state.per_minute, 5);
  EXPECT_EQ(state.minute_left, 5);
  EXPECT_EQ(state.per_day, 25);
  EXPECT_EQ(state.day_left, 25);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(quota.Acquire().ok());
  state = quota.state();
  EXPECT_EQ(state.minute_left, 2);
  EXPECT_EQ(state.day_left, 22);
  EXPECT_EQ(state.next_call_in, absl::ZeroDuration());
  clock.Advance(absl::Seconds(60));
  EXPECT_EQ(quota.state().minute_left, 5);
}

TEST(CallQuotaTest, ClockSteppingBackGrantsNothingExtra) {
  FakeClock clock(Utc("2026-12-07T00:00:10Z"));
  CallQuota quota(PerMinute(1, 2), clock.AsFunction());
  EXPECT_TRUE(quota.Acquire().ok());
  clock.Advance(absl::Seconds(-30));  // back into the previous day
  EXPECT_FALSE(quota.Acquire().ok());  // the window still holds the call
  clock.Advance(absl::Seconds(90));
  EXPECT_TRUE(quota.Acquire().ok());
  clock.Advance(absl::Seconds(60));
  EXPECT_FALSE(quota.Acquire().ok());  // both of today's calls are used
}

}  // namespace
}  // namespace marketdata
