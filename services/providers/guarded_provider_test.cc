#include "services/providers/guarded_provider.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "services/common/grpc/errors.h"
#include "services/common/testing/fake_clock.h"
#include "services/providers/fake_provider.h"

namespace marketdata {

// Circuit states by name in failure messages.
void PrintTo(CircuitBreaker::State state, std::ostream* os) { *os << StateName(state); }

namespace {

Quote AQuote() {
  Quote quote;
  quote.symbol = "AAPL";
  quote.price = 180;
  quote.provider = "scripted";
  quote.raw_response = "{}";
  return quote;
}

const absl::Status kDown = absl::UnavailableError("scripted is down (HTTP 503)");

class GuardedProviderTest : public ::testing::Test {
 protected:
  // Builds the provider under test; `inner_` stays reachable for assertions.
  std::unique_ptr<GuardedProvider> Guard(std::vector<absl::StatusOr<Quote>> script,
                                         GuardOptions options = {}) {
    auto inner = std::make_unique<FakeProvider>("scripted");
    inner->Script(std::move(script));
    inner_ = inner.get();
    options.clock = clock_.AsFunction();
    options.sleep = [this](absl::Duration d) {
      sleeps_.push_back(d);
      clock_.Advance(d);
    };
    options.jitter_seed = 1;
    return std::make_unique<GuardedProvider>(std::move(inner), std::move(options));
  }

  FakeClock clock_;
  FakeProvider* inner_ = nullptr;
  std::vector<absl::Duration> sleeps_;
};

TEST_F(GuardedProviderTest, PassesThroughNameConfiguredAndSuccess) {
  auto guarded = Guard({AQuote()});
  EXPECT_EQ(guarded->name(), "scripted");
  EXPECT_TRUE(guarded->configured());
  inner_->set_configured(false);
  EXPECT_FALSE(guarded->configured());
  inner_->set_configured(true);
  auto quote = guarded->FetchQuote("AAPL");
  ASSERT_TRUE(quote.ok());
  EXPECT_EQ(quote->price, 180);
  EXPECT_EQ(inner_->calls(), 1);
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(GuardedProviderTest, CountsEveryCallByOutcome) {
  GuardOptions options;
  options.max_retries = 1;
  auto guarded = Guard({AQuote(), absl::NotFoundError("no such symbol"), kDown, kDown,
                        MarkedTimeout(absl::UnavailableError("timed out")),
                        MarkedTimeout(absl::UnavailableError("timed out"))},
                       options);
  EXPECT_TRUE(guarded->FetchQuote("AAPL").ok());
  EXPECT_EQ(guarded->FetchQuote("NOPE").status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(guarded->FetchQuote("AAPL").ok());  // down, and down again on its retry
  EXPECT_FALSE(guarded->FetchQuote("AAPL").ok());  // timed out twice
  const std::array<int64_t, kProviderOutcomes> calls = guarded->stats()->calls;
  // One count per call, however many retries it took.
  EXPECT_EQ(calls[static_cast<int>(ProviderOutcome::kOk)], 1);
  EXPECT_EQ(calls[static_cast<int>(ProviderOutcome::kNotFound)], 1);
  EXPECT_EQ(calls[static_cast<int>(ProviderOutcome::kError)], 1);
  EXPECT_EQ(calls[static_cast<int>(ProviderOutcome::kTimeout)], 1);
  EXPECT_EQ(calls[static_cast<int>(ProviderOutcome::kRateLimited)], 0);
}

TEST_F(GuardedProviderTest, FullWindowRefusesWithoutCallingTheProvider) {
  GuardOptions options;
  options.per_minute = 5;
  auto guarded = Guard({AQuote()}, options);
  // The whole minute's allowance may go at once.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(guarded->FetchQuote("AAPL").ok()) << i;
  clock_.Advance(absl::Seconds(7));
  auto refused = guarded->FetchQuote("AAPL");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "scripted")) << refused.status();
  EXPECT_EQ(inner_->calls(), 5);
  // The client learns exactly when the next call may go: when the oldest of the five leaves the
  // 60 s window, 53 s from now.
  std::optional<RetryAdvice> advice = RetryAdviceOf(refused.status());
  ASSERT_TRUE(advice.has_value());
  EXPECT_EQ(advice->retry_after, absl::Seconds(53));
  EXPECT_EQ(advice->limit, 5);
  EXPECT_EQ(guarded->stats()->next_call_in, absl::Seconds(53));
  EXPECT_EQ(guarded->stats()->calls[static_cast<int>(ProviderOutcome::kRateLimited)], 1);
}

TEST_F(GuardedProviderTest, TheWindowSlides) {
  GuardOptions options;
  options.per_minute = 2;  // at most 2 calls in any 60 s
  auto guarded = Guard({AQuote()}, options);
  EXPECT_TRUE(guarded->FetchQuote("AAPL").ok());  // t = 0
  clock_.Advance(absl::Seconds(20));
  EXPECT_TRUE(guarded->FetchQuote("AAPL").ok());  // t = 20
  EXPECT_EQ(RetryAdviceOf(guarded->FetchQuote("AAPL").status())->retry_after, absl::Seconds(40));
  clock_.Advance(absl::Seconds(40) - absl::Milliseconds(1));
  EXPECT_EQ(RetryAdviceOf(guarded->FetchQuote("AAPL").status())->retry_after,
            absl::Milliseconds(1));
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_TRUE(guarded->FetchQuote("AAPL").ok());  // t = 60: the call at 0 has left the window
  // The call at 20 is still in it: the next one may go at 80, not at 60 + 30.
  EXPECT_EQ(RetryAdviceOf(guarded->FetchQuote("AAPL").status())->retry_after, absl::Seconds(20));
  clock_.Advance(absl::Seconds(20));
  EXPECT_TRUE(guarded->FetchQuote("AAPL").ok());  // t = 80
  EXPECT_EQ(inner_->calls(), 4);
}

TEST_F(GuardedProviderTest, AFractionalRateSpacesSingleCalls) {
  GuardOptions options;
  options.per_minute = 1.5;  // one call per 40 s
  auto guarded = Guard({AQuote()}, options);
  EXPECT_TRUE(guarded->FetchQuote("AAPL").ok());
  auto refused = guarded->FetchQuote("AAPL");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(RetryAdviceOf(refused.status())->retry_after, absl::Seconds(40));
  EXPECT_EQ(RetryAdviceOf(refused.status())->limit, 1);
  clock_.Advance(absl::Seconds(40));
  EXPECT_TRUE(guarded->FetchQuote("AAPL").ok());
  EXPECT_EQ(inner_->calls(), 2);
}

TEST_F(GuardedProviderTest, RetriesUnavailableUntilSuccess) {
  auto guarded = Guard({kDown, AQuote()});
  auto quote = guarded->FetchQuote("AAPL");
  ASSERT_TRUE(quote.ok()) << quote.status();
  EXPECT_EQ(inner_->calls(), 2);
  ASSERT_EQ(sleeps_.size(), 1u);
  EXPECT_GE(sleeps_[0], absl::ZeroDuration());
  EXPECT_LT(sleeps_[0], absl::Milliseconds(100));
}

TEST_F(GuardedProviderTest, RetryCountIsBoundedAndBackoffDoubles) {
  GuardOptions options;
  options.max_retries = 4;
  options.deadline = absl::Hours(1);
  auto guarded = Guard({kDown}, options);
  auto result = guarded->FetchQuote("AAPL");
  EXPECT_EQ(result.status(), kDown);
  EXPECT_EQ(inner_->calls(), 5);
  ASSERT_EQ(sleeps_.size(), 4u);
  absl::Duration cap = absl::Milliseconds(100);
  for (absl::Duration slept : sleeps_) {
    EXPECT_GE(slept, absl::ZeroDuration());
    EXPECT_LT(slept, cap);
    cap *= 2;
  }
}

TEST_F(GuardedProviderTest, JitterSpreadsTheWaits) {
  GuardOptions options;
  options.max_retries = 1;
  auto guarded = Guard({kDown}, options);
  for (int i = 0; i < 50; ++i) guarded->FetchQuote("AAPL").IgnoreError();
  ASSERT_EQ(sleeps_.size(), 50u);
  absl::Duration lowest = absl::InfiniteDuration(), highest = absl::ZeroDuration();
  for (absl::Duration slept : sleeps_) {
    lowest = std::min(lowest, slept);
    highest = std::max(highest, slept);
  }
  EXPECT_LT(lowest, absl::Milliseconds(30));
  EXPECT_GT(highest, absl::Milliseconds(70));
}

TEST_F(GuardedProviderTest, NoRetryForNotFoundRateLimitOrNotConfigured) {
  for (const absl::Status& status :
       {absl::NotFoundError("unknown"), absl::ResourceExhaustedError("limit"),
        absl::InvalidArgumentError("bad")}) {
    auto guarded = Guard({status});
    EXPECT_EQ(guarded->FetchQuote("AAPL").status(), status);
    EXPECT_EQ(inner_->calls(), 1);
  }
  const absl::Status not_configured =
      absl::UnavailableError("provider scripted is not configured: set SCRIPTED_API_KEY");
  GuardOptions options;
  options.per_minute = 1;
  auto guarded = Guard({not_configured}, options);
  inner_->set_configured(false);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(guarded->FetchQuote("AAPL").status(), not_configured);
  EXPECT_EQ(inner_->calls(), 3);  // no retries, and no call of the quota spent on it
  EXPECT_TRUE(sleeps_.empty());
  EXPECT_EQ(guarded->stats()->tokens_available, 1);
}

TEST_F(GuardedProviderTest, RetriesNeedACallOfTheQuotaToo) {
  GuardOptions options;
  options.per_minute = 2;
  options.max_retries = 5;
  auto guarded = Guard({kDown}, options);
  // The call and one retry use up the window; the third attempt is not made and the last
  // failure stands.
  EXPECT_EQ(guarded->FetchQuote("AAPL").status(), kDown);
  EXPECT_EQ(inner_->calls(), 2);
  EXPECT_EQ(sleeps_.size(), 2u);
  EXPECT_EQ(guarded->stats()->tokens_available, 0);
  EXPECT_EQ(guarded->FetchQuote("AAPL").status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(inner_->calls(), 2);
}

TEST_F(GuardedProviderTest, StopsRetryingAtTheDeadline) {
  GuardOptions options;
  options.max_retries = 2;
  options.provider_timeout = absl::Seconds(1);
  options.initial_backoff = absl::Milliseconds(1);
  // The default deadline is timeout × (retries + 1) = 3 s. Attempts that each take 1.6 s leave
  // room for one retry, not the two allowed.
  auto guarded = Guard({kDown}, options);
  inner_->set_call_takes(absl::Milliseconds(1600), &clock_);
  EXPECT_EQ(guarded->FetchQuote("AAPL").status(), kDown);
  EXPECT_EQ(inner_->calls(), 2);

  options.deadline = absl::Milliseconds(2500);
  options.max_retries = 10;
  auto bounded = Guard({kDown}, options);
  inner_->set_call_takes(absl::Seconds(1), &clock_);
  EXPECT_EQ(bounded->FetchQuote("AAPL").status(), kDown);
  EXPECT_EQ(inner_->calls(), 3);  // starts at 0 s, ~1 s and ~2 s; none at ~3 s
}

TEST_F(GuardedProviderTest, EachCallGetsTheGuardsDeadline) {
  GuardOptions options;
  options.provider_timeout = absl::Seconds(1);
  options.max_retries = 2;
  auto guarded = Guard({AQuote()}, options);
  const absl::Time start = clock_.Now();
  ASSERT_TRUE(guarded->FetchQuote("AAPL").ok());
  EXPECT_EQ(inner_->deadlines(), std::vector<absl::Time>{start + absl::Seconds(3)});
}

TEST_F(GuardedProviderTest, AnEarlierCallerDeadlineWinsAndEndsTheRetries) {
  GuardOptions options;
  options.provider_timeout = absl::Seconds(1);
  options.max_retries = 2;
  options.initial_backoff = absl::Milliseconds(10);
  auto guarded = Guard({kDown}, options);
  inner_->set_call_takes(absl::Milliseconds(60), &clock_);
  const absl::Time by = clock_.Now() + absl::Milliseconds(50);
  EXPECT_EQ(guarded->FetchQuoteBy("AAPL", by).status(), kDown);
  // The first call already ran past the caller's deadline: no retry.
  EXPECT_EQ(inner_->calls(), 1);
  EXPECT_EQ(inner_->deadlines(), std::vector<absl::Time>{by});
}

TEST_F(GuardedProviderTest, StatsCountErrorsButNotUnknownSymbols) {
  GuardOptions options;
  options.per_minute = 60;
  options.max_retries = 0;
  auto guarded = Guard({AQuote(), absl::NotFoundError("unknown"), kDown,
                        absl::ResourceExhaustedError("limit"), AQuote()},
                       options);
  auto empty = guarded->stats();
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->recent_requests, 0);
  EXPECT_EQ(empty->recent_error_rate, 0);
  EXPECT_EQ(empty->rate_limit_per_minute, 60);
  EXPECT_EQ(empty->tokens_available, 60);
  EXPECT_EQ(empty->next_call_in, absl::ZeroDuration());

  for (int i = 0; i < 5; ++i) {
    guarded->FetchQuote("AAPL").IgnoreError();
    clock_.Advance(absl::Seconds(10));
  }
  auto stats = guarded->stats();
  EXPECT_EQ(stats->recent_requests, 5);
  EXPECT_DOUBLE_EQ(stats->recent_error_rate, 2.0 / 5);
  // Calls left in the window: the five calls, at 0, 10, ..., 40 s, are all in the last 60 s.
  EXPECT_DOUBLE_EQ(stats->tokens_available, 55);
  // As each leaves the window its call comes back.
  clock_.Advance(absl::Seconds(10));  // t = 60
  EXPECT_DOUBLE_EQ(guarded->stats()->tokens_available, 56);
  clock_.Advance(absl::Seconds(40));  // t = 100
  EXPECT_DOUBLE_EQ(guarded->stats()->tokens_available, 60);
}

TEST_F(GuardedProviderTest, ErrorRateCoversOnlyTheLastHundredCalls) {
  GuardOptions options;
  options.max_retries = 0;
  std::vector<absl::StatusOr<Quote>> script(100, kDown);
  script.push_back(AQuote());
  auto guarded = Guard(script, options);
  for (int i = 0; i < 100; ++i) guarded->FetchQuote("AAPL").IgnoreError();
  EXPECT_EQ(guarded->stats()->recent_requests, 100);
  EXPECT_DOUBLE_EQ(guarded->stats()->recent_error_rate, 1.0);
  for (int i = 0; i < 60; ++i) guarded->FetchQuote("AAPL").IgnoreError();
  EXPECT_EQ(guarded->stats()->recent_requests, 100);
  EXPECT_DOUBLE_EQ(guarded->stats()->recent_error_rate, 0.4);
  for (int i = 0; i < 40; ++i) guarded->FetchQuote("AAPL").IgnoreError();
  EXPECT_DOUBLE_EQ(guarded->stats()->recent_error_rate, 0.0);
}

TEST_F(GuardedProviderTest, UnlimitedReportsNoLimit) {
  auto guarded = Guard({AQuote()});
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(guarded->FetchQuote("AAPL").ok());
  auto stats = guarded->stats();
  EXPECT_EQ(stats->rate_limit_per_minute, 0);
  EXPECT_EQ(stats->tokens_available, 0);
  EXPECT_EQ(stats->rate_limit_per_day, 0);
  EXPECT_EQ(stats->calls_left_today, -1);
  EXPECT_EQ(stats->next_call_in, absl::ZeroDuration());
  EXPECT_EQ(stats->min_refresh, absl::ZeroDuration());
  EXPECT_FALSE(stats->circuit.has_value());
  EXPECT_EQ(stats->circuit_opened, 0);
  EXPECT_EQ(stats->recent_requests, 100);
}

TEST_F(GuardedProviderTest, ConcurrentCallsNeverExceedTheWindow) {
  GuardOptions options;
  options.per_minute = 50;
  auto guarded = Guard({AQuote()}, options);
  auto round = [&] {
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 50; ++i) {
          guarded->FetchQuote("AAPL").IgnoreError();
          guarded->stats();
        }
      });
    }
    for (auto& thread : threads) thread.join();
  };
  round();
  EXPECT_EQ(inner_->calls(), 50);
  EXPECT_EQ(guarded->stats()->recent_requests, 100);
  EXPECT_GE(guarded->stats()->recent_error_rate, 0.5);  // 150 of the 200 calls were refused
  EXPECT_EQ(guarded->stats()->tokens_available, 0);
  // A minute later the window holds none of them: another 50, and no more.
  clock_.Advance(absl::Minutes(1));
  round();
  EXPECT_EQ(inner_->calls(), 100);
  EXPECT_EQ(guarded->stats()->calls[static_cast<int>(ProviderOutcome::kOk)], 100);
  EXPECT_EQ(guarded->stats()->calls[static_cast<int>(ProviderOutcome::kRateLimited)], 300);
}

// 00:00 UTC after the FakeClock's start (2023-11-14T22:13:20Z).
const absl::Time kMidnight = absl::FromCivil(absl::CivilDay(2023, 11, 15), absl::UTCTimeZone());

TEST_F(GuardedProviderTest, DailyLimitRefusesUntilMidnightUtc) {
  GuardOptions options;
  options.per_day = 25;
  auto guarded = Guard({AQuote()}, options);
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(guarded->FetchQuote("AAPL").ok()) << i;
    if (i == 9) {
      EXPECT_EQ(guarded->stats()->calls_left_today, 15);
    }
    clock_.Advance(absl::Seconds(1));
  }
  auto refused = guarded->FetchQuote("AAPL");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(inner_->calls(), 25);
  std::optional<RetryAdvice> advice = RetryAdviceOf(refused.status());
  ASSERT_TRUE(advice.has_value());
  EXPECT_EQ(advice->retry_after, kMidnight - clock_.Now());
  EXPECT_EQ(advice->limit, 25);

  auto stats = guarded->stats();
  EXPECT_EQ(stats->rate_limit_per_day, 25);
  EXPECT_EQ(stats->calls_left_today, 0);
  EXPECT_EQ(stats->quota_resets_at, kMidnight);
  EXPECT_EQ(stats->next_call_in, kMidnight - clock_.Now());
  EXPECT_EQ(stats->rate_limit_per_minute, 0);  // no per-minute limit was set

  // An hour later the advice is an hour shorter; the last moment of the day still refuses. (The
  // advice is carried in whole milliseconds.)
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(RetryAdviceOf(guarded->FetchQuote("AAPL").status())->retry_after,
            kMidnight - clock_.Now());
  clock_.Set(kMidnight - absl::Milliseconds(1));
  EXPECT_EQ(RetryAdviceOf(guarded->FetchQuote("AAPL").status())->retry_after,
            absl::Milliseconds(1));
  clock_.Set(kMidnight - absl::Nanoseconds(1));
  EXPECT_EQ(guarded->FetchQuote("AAPL").status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(guarded->stats()->next_call_in, absl::Nanoseconds(1));
  EXPECT_EQ(inner_->calls(), 25);

  // A new UTC day, a new count.
  clock_.Set(kMidnight);
  EXPECT_TRUE(guarded->FetchQuote("AAPL").ok());
  EXPECT_EQ(inner_->calls(), 26);
  EXPECT_EQ(guarded->stats()->calls_left_today, 24);
  EXPECT_EQ(guarded->stats()->quota_resets_at, kMidnight + absl::Hours(24));
}

TEST_F(GuardedProviderTest, SeededDailyCallsCountAgainstTheDay) {
  GuardOptions options;
  options.per_day = 25;
  auto guarded = Guard({AQuote()}, options);
  guarded->SeedDailyCalls(24);
  EXPECT_EQ(guarded->stats()->calls_left_today, 1);
  EXPECT_TRUE(guarded->FetchQuote("AAPL").ok());
  EXPECT_EQ(guarded->FetchQuote("AAPL").status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(inner_->calls(), 1);
}

TEST_F(GuardedProviderTest, WhenBothLimitsRefuseTheAdviceIsTheLaterOne) {
  GuardOptions options;
  options.per_minute = 1;
  options.per_day = 2;
  auto guarded = Guard({AQuote()}, options);
  EXPECT_TRUE(guarded->FetchQuote("AAPL").ok());
  std::optional<RetryAdvice> advice = RetryAdviceOf(guarded->FetchQuote("AAPL").status());
  ASSERT_TRUE(advice.has_value());
  EXPECT_EQ(advice->retry_after, absl::Minutes(1));  // only the minute refuses
  EXPECT_EQ(advice->limit, 1);
  clock_.Advance(absl::Minutes(1));
  EXPECT_TRUE(guarded->FetchQuote("AAPL").ok());
  advice = RetryAdviceOf(guarded->FetchQuote("AAPL").status());
  ASSERT_TRUE(advice.has_value());
  EXPECT_EQ(advice->retry_after, kMidnight - clock_.Now());  // both do; the day ends later
  EXPECT_EQ(advice->limit, 2);
  EXPECT_EQ(guarded->stats()->next_call_in, kMidnight - clock_.Now());
  EXPECT_EQ(inner_->calls(), 2);
}

TEST_F(GuardedProviderTest, BreakerOpensAfterConsecutiveFailuresAndFailsFast) {
  GuardOptions options;
  options.max_retries = 0;
  options.breaker_failures = 3;
  options.breaker_cool_down = absl::Seconds(30);
  auto guarded = Guard({AQuote()}, options);
  inner_->Fail(kDown);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(guarded->FetchQuote("AAPL").status(), kDown);
  EXPECT_EQ(inner_->calls(), 3);
  auto stats = guarded->stats();
  ASSERT_TRUE(stats->circuit.has_value());
  EXPECT_EQ(*stats->circuit, CircuitBreaker::State::kOpen);
  EXPECT_EQ(stats->circuit_opened, 1);
  EXPECT_EQ(stats->next_probe_in, absl::Seconds(30));

  clock_.Advance(absl::Seconds(10));
  const absl::Status fast = guarded->FetchQuote("AAPL").status();
  EXPECT_EQ(fast.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(fast, kDown);  // the breaker's answer, not the provider's
  EXPECT_EQ(inner_->calls(), 3);
  std::optional<RetryAdvice> advice = RetryAdviceOf(fast);
  ASSERT_TRUE(advice.has_value());
  EXPECT_EQ(advice->retry_after, absl::Seconds(20));
  EXPECT_EQ(guarded->stats()->next_probe_in, absl::Seconds(20));
  EXPECT_TRUE(sleeps_.empty());
  // Failing fast is still an error for the stats.
  EXPECT_EQ(guarded->stats()->calls[static_cast<int>(ProviderOutcome::kError)], 4);
}

TEST_F(GuardedProviderTest, AfterTheCoolDownOneProbeGoesAndItsSuccessCloses) {
  GuardOptions options;
  options.max_retries = 0;
  options.breaker_failures = 3;
  options.breaker_cool_down = absl::Seconds(30);
  auto guarded = Guard({AQuote()}, options);
  inner_->Fail(kDown);
  for (int i = 0; i < 3; ++i) guarded->FetchQuote("AAPL").IgnoreError();
  ASSERT_EQ(*guarded->stats()->circuit, CircuitBreaker::State::kOpen);

  // The probe reaches the provider, which is still down: open for another cool-down.
  clock_.Advance(absl::Seconds(30));
  EXPECT_EQ(guarded->FetchQuote("AAPL").status(), kDown);
  EXPECT_EQ(inner_->calls(), 4);
  EXPECT_EQ(*guarded->stats()->circuit, CircuitBreaker::State::kOpen);
  EXPECT_EQ(guarded->stats()->circuit_opened, 2);
  EXPECT_EQ(guarded->stats()->next_probe_in, absl::Seconds(30));
  EXPECT_EQ(guarded->FetchQuote("AAPL").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(inner_->calls(), 4);

  // Healthy again: the next probe succeeds, the circuit closes and calls go through.
  inner_->Fail(absl::OkStatus());
  clock_.Advance(absl::Seconds(29));
  EXPECT_EQ(guarded->FetchQuote("AAPL").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(inner_->calls(), 4);
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(guarded->FetchQuote("AAPL").ok());
  EXPECT_EQ(inner_->calls(), 5);
  auto stats = guarded->stats();
  EXPECT_EQ(stats->circuit, CircuitBreaker::State::kClosed);
  EXPECT_EQ(stats->next_probe_in, absl::ZeroDuration());
  EXPECT_EQ(stats->circuit_opened, 2);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(guarded->FetchQuote("AAPL").ok());
  EXPECT_EQ(inner_->calls(), 10);
  // And it takes three failures in a row again to open it.
  inner_->Fail(kDown);
  for (int i = 0; i < 2; ++i) guarded->FetchQuote("AAPL").IgnoreError();
  EXPECT_EQ(guarded->stats()->circuit, CircuitBreaker::State::kClosed);
  guarded->FetchQuote("AAPL").IgnoreError();
  EXPECT_EQ(guarded->stats()->circuit, CircuitBreaker::State::kOpen);
  EXPECT_EQ(guarded->stats()->circuit_opened, 3);
}

TEST_F(GuardedProviderTest, TheBreakerCountsCallsAfterTheirRetries) {
  GuardOptions options;
  options.max_retries = 2;
  options.deadline = absl::Hours(1);
  options.breaker_failures = 2;
  auto guarded = Guard({kDown}, options);
  EXPECT_EQ(guarded->FetchQuote("AAPL").status(), kDown);
  EXPECT_EQ(inner_->calls(), 3);  // three failed attempts, one failed call
  EXPECT_EQ(guarded->stats()->circuit, CircuitBreaker::State::kClosed);
  EXPECT_EQ(guarded->FetchQuote("AAPL").status(), kDown);
  EXPECT_EQ(inner_->calls(), 6);
  EXPECT_EQ(guarded->stats()->circuit, CircuitBreaker::State::kOpen);
  EXPECT_EQ(guarded->FetchQuote("AAPL").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(inner_->calls(), 6);
}

TEST_F(GuardedProviderTest, OnlyConsecutiveFailuresOpenTheCircuit) {
  GuardOptions options;
  options.max_retries = 0;
  options.breaker_failures = 3;
  // A success, an unknown symbol or the provider's own rate limit is an answer: it ends a run of
  // failures. A timeout (DEADLINE_EXCEEDED) is a failure like UNAVAILABLE.
  auto guarded = Guard({kDown, kDown, AQuote(), kDown, kDown, absl::NotFoundError("unknown"),
                        kDown, kDown, absl::ResourceExhaustedError("limit"), kDown, kDown,
                        absl::DeadlineExceededError("too slow"), AQuote()},
                       options);
  for (int i = 0; i < 11; ++i) {
    guarded->FetchQuote("AAPL").IgnoreError();
    EXPECT_EQ(guarded->stats()->circuit, CircuitBreaker::State::kClosed) << "after call " << i;
  }
  EXPECT_EQ(guarded->FetchQuote("AAPL").status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(guarded->stats()->circuit, CircuitBreaker::State::kOpen);
  EXPECT_EQ(inner_->calls(), 12);
  EXPECT_EQ(guarded->FetchQuote("AAPL").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(inner_->calls(), 12);
}

TEST_F(GuardedProviderTest, NotFoundAndRateLimitAnswersNeverOpenTheCircuit) {
  for (const absl::Status& status :
       {absl::NotFoundError("unknown"), absl::ResourceExhaustedError("limit")}) {
    GuardOptions options;
    options.max_retries = 0;
    options.breaker_failures = 1;
    auto guarded = Guard({status}, options);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(guarded->FetchQuote("AAPL").status(), status);
    EXPECT_EQ(inner_->calls(), 10) << status;
    EXPECT_EQ(guarded->stats()->circuit, CircuitBreaker::State::kClosed) << status;
    EXPECT_EQ(guarded->stats()->circuit_opened, 0) << status;
  }
}

TEST_F(GuardedProviderTest, QuotaRefusalsNeitherOpenTheCircuitNorSpendItsProbe) {
  GuardOptions options;
  options.per_minute = 1;
  options.max_retries = 0;
  options.breaker_failures = 2;
  options.breaker_cool_down = absl::Seconds(10);
  auto guarded = Guard({AQuote()}, options);
  inner_->Fail(kDown);
  EXPECT_EQ(guarded->FetchQuote("AAPL").status(), kDown);  // t = 0: one failure
  // Refused by the quota: no call was made, so nothing is learnt about the provider.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(guarded->FetchQuote("AAPL").status().code(), absl::StatusCode::kResourceExhausted);
  }
  EXPECT_EQ(guarded->stats()->circuit, CircuitBreaker::State::kClosed);
  EXPECT_EQ(inner_->calls(), 1);
  clock_.Advance(absl::Minutes(1));
  EXPECT_EQ(guarded->FetchQuote("AAPL").status(), kDown);  // t = 60: the second in a row
  EXPECT_EQ(guarded->stats()->circuit, CircuitBreaker::State::kOpen);
  EXPECT_EQ(guarded->stats()->circuit_opened, 1);

  // t = 70: a probe may go, but the quota has no call until t = 120. Calls until then are
  // refused by the quota, and the probe waits for a call that can really be made.
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(guarded->stats()->next_probe_in, absl::ZeroDuration());
  inner_->Fail(absl::OkStatus());
  for (int i = 0; i < 5; ++i) {
    absl::Status refused = guarded->FetchQuote("AAPL").status();
    EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
    EXPECT_EQ(RetryAdviceOf(refused)->retry_after, absl::Seconds(50));
  }
  EXPECT_EQ(inner_->calls(), 2);
  EXPECT_EQ(guarded->stats()->circuit, CircuitBreaker::State::kOpen);
  EXPECT_EQ(guarded->stats()->circuit_opened, 1);

  clock_.Advance(absl::Seconds(50));
  EXPECT_TRUE(guarded->FetchQuote("AAPL").ok());  // the probe
  EXPECT_EQ(inner_->calls(), 3);
  EXPECT_EQ(guarded->stats()->circuit, CircuitBreaker::State::kClosed);
}

TEST_F(GuardedProviderTest, AfterTheCoolDownOnlyOneOfManyConcurrentCallsProbes) {
  GuardOptions options;
  options.max_retries = 0;
  options.breaker_failures = 1;
  options.breaker_cool_down = absl::Seconds(5);
  auto guarded = Guard({kDown}, options);
  EXPECT_EQ(guarded->FetchQuote("AAPL").status(), kDown);
  clock_.Advance(absl::Seconds(5));
  absl::Mutex mu;
  std::vector<absl::Status> results;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      absl::Status status = guarded->FetchQuote("AAPL").status();
      absl::MutexLock lock(&mu);
      results.push_back(status);
    });
  }
  for (auto& thread : threads) thread.join();
  // The probe failed and reopened the circuit; everyone else failed fast, before or after it.
  EXPECT_EQ(inner_->calls(), 2);
  EXPECT_EQ(std::count(results.begin(), results.end(), kDown), 1);
  for (const absl::Status& status : results) {
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
    EXPECT_TRUE(RetryAdviceOf(status).has_value() || status == kDown) << status;
  }
  EXPECT_EQ(guarded->stats()->circuit, CircuitBreaker::State::kOpen);
  EXPECT_EQ(guarded->stats()->circuit_opened, 2);
}

// A provider whose fetches wait, while held, until released: a probe can be kept out.
class HeldProvider final : public PriceProvider {
 public:
  std::string name() const override { return "held"; }
  bool configured() const override { return true; }
  absl::StatusOr<Quote> FetchQuote(absl::string_view) override {
    absl::MutexLock lock(&mu_);
    ++calls_;
    mu_.Await(absl::Condition(
        +[](bool* held) { return !*held; }, &held_));
    if (!answer_.ok()) return answer_;
    return AQuote();
  }
  void Hold() {
    absl::MutexLock lock(&mu_);
    held_ = true;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    held_ = false;
  }
  void Answer(absl::Status answer) {
    absl::MutexLock lock(&mu_);
    answer_ = std::move(answer);
  }
  int calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  // Whether `n` fetches have started within `timeout` (real time).
  bool AwaitCalls(int n, absl::Duration timeout) const {
    absl::MutexLock lock(&mu_);
    struct Args {
      const int* calls;
      int n;
    } args{&calls_, n};
    return mu_.AwaitWithTimeout(
        absl::Condition(+[](Args* a) { return *a->calls >= a->n; }, &args), timeout);
  }

 private:
  mutable absl::Mutex mu_;
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status answer_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST_F(GuardedProviderTest, WhileTheProbeIsOutEveryOtherCallFailsFast) {
  auto inner = std::make_unique<HeldProvider>();
  HeldProvider* held = inner.get();
  GuardOptions options;
  options.clock = clock_.AsFunction();
  options.max_retries = 0;
  options.breaker_failures = 1;
  options.breaker_cool_down = absl::Seconds(5);
  GuardedProvider guarded(std::move(inner), options);
  held->Answer(kDown);
  EXPECT_EQ(guarded.FetchQuote("AAPL").status(), kDown);
  ASSERT_EQ(guarded.stats()->circuit, CircuitBreaker::State::kOpen);

  clock_.Advance(absl::Seconds(5));
  held->Answer(absl::OkStatus());
  held->Hold();
  absl::StatusOr<Quote> probed;
  std::thread probe([&] { probed = guarded.FetchQuote("AAPL"); });
  ASSERT_TRUE(held->AwaitCalls(2, absl::Seconds(30)));
  EXPECT_EQ(guarded.stats()->circuit, CircuitBreaker::State::kHalfOpen);
  EXPECT_EQ(guarded.stats()->next_probe_in, absl::Seconds(5));
  clock_.Advance(absl::Seconds(1));
  for (int i = 0; i < 3; ++i) {
    const absl::Status fast = guarded.FetchQuote("AAPL").status();
    EXPECT_EQ(fast.code(), absl::StatusCode::kUnavailable);
    ASSERT_TRUE(RetryAdviceOf(fast).has_value());
    EXPECT_EQ(RetryAdviceOf(fast)->retry_after, absl::Seconds(4));
  }
  EXPECT_EQ(held->calls(), 2);
  held->Release();
  probe.join();
  EXPECT_TRUE(probed.ok()) << probed.status();
  EXPECT_EQ(guarded.stats()->circuit, CircuitBreaker::State::kClosed);
  EXPECT_TRUE(guarded.FetchQuote("AAPL").ok());
  EXPECT_EQ(held->calls(), 3);
}

TEST_F(GuardedProviderTest, StatsReportTheCircuitAndTheRefreshFloor) {
  GuardOptions options;
  options.max_retries = 0;
  options.min_refresh = absl::Seconds(30);
  options.breaker_failures = 1;
  options.breaker_cool_down = absl::Seconds(5);
  auto guarded = Guard({kDown, AQuote()}, options);
  EXPECT_EQ(guarded->min_refresh(), absl::Seconds(30));
  auto stats = guarded->stats();
  EXPECT_EQ(stats->min_refresh, absl::Seconds(30));
  EXPECT_EQ(stats->circuit, CircuitBreaker::State::kClosed);
  EXPECT_EQ(stats->next_probe_in, absl::ZeroDuration());
  EXPECT_EQ(stats->circuit_opened, 0);

  guarded->FetchQuote("AAPL").IgnoreError();
  clock_.Advance(absl::Seconds(2));
  stats = guarded->stats();
  EXPECT_EQ(stats->circuit, CircuitBreaker::State::kOpen);
  EXPECT_EQ(stats->next_probe_in, absl::Seconds(3));
  EXPECT_EQ(stats->circuit_opened, 1);
  EXPECT_EQ(stats->min_refresh, absl::Seconds(30));

  clock_.Advance(absl::Seconds(3));
  EXPECT_TRUE(guarded->FetchQuote("AAPL").ok());
  stats = guarded->stats();
  EXPECT_EQ(stats->circuit, CircuitBreaker::State::kClosed);
  EXPECT_EQ(stats->circuit_opened, 1);
}

TEST_F(GuardedProviderTest, NoBreakerWithoutBreakerFailures) {
  GuardOptions options;
  options.max_retries = 0;
  options.breaker_failures = 0;
  auto guarded = Guard({kDown}, options);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(guarded->FetchQuote("AAPL").status(), kDown);
  EXPECT_EQ(inner_->calls(), 20);
  auto stats = guarded->stats();
  EXPECT_FALSE(stats->circuit.has_value());
  EXPECT_EQ(stats->circuit_opened, 0);
  EXPECT_EQ(stats->next_probe_in, absl::ZeroDuration());
}

}  // namespace
}  // namespace marketdata

namespace marketdata {
namespace {

// A ledger in memory, as PostgreSQL keeps it: one count per provider and day.
class FakeLedger final : public DailyCallLedger {
 public:
  absl::StatusOr<Take> TakeCall(absl::string_view provider, absl::Time day,
                                int64_t limit) override {
    absl::MutexLock lock(&mu_);
    if (!fail_.ok()) return fail_;
    int64_t& used = counts_[absl::StrCat(provider, "@", absl::FormatTime(day))];
    if (used >= limit) return Take{false, used};
    return Take{true, ++used};
  }
  absl::StatusOr<int64_t> Used(absl::string_view provider, absl::Time day) override {
    absl::MutexLock lock(&mu_);
    if (!fail_.ok()) return fail_;
    return counts_[absl::StrCat(provider, "@", absl::FormatTime(day))];
  }
  void Fail(absl::Status status) {
    absl::MutexLock lock(&mu_);
    fail_ = std::move(status);
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, int64_t> counts_;
  absl::Status fail_;
};

// Two processes (two guards over one ledger) share the day's calls: together they never make
// more than the limit, and a process started later knows what the others used.
TEST_F(GuardedProviderTest, ALedgerSharesTheDaysCallsAmongProcesses) {
  FakeLedger ledger;
  GuardOptions options;
  options.per_day = 3;
  options.ledger = &ledger;
  std::unique_ptr<GuardedProvider> first = Guard(std::vector<absl::StatusOr<Quote>>(5, AQuote()),
                                                 options);
  FakeProvider* first_inner = inner_;
  std::unique_ptr<GuardedProvider> second = Guard(std::vector<absl::StatusOr<Quote>>(5, AQuote()),
                                                  options);
  FakeProvider* second_inner = inner_;
  EXPECT_TRUE(first->FetchQuote("AAPL").ok());
  EXPECT_TRUE(second->FetchQuote("AAPL").ok());
  EXPECT_TRUE(first->FetchQuote("AAPL").ok());
  absl::StatusOr<Quote> refused = second->FetchQuote("AAPL");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  ASSERT_TRUE(RetryAdviceOf(refused.status()).has_value());
  const absl::Time midnight =
      absl::FromCivil(absl::CivilDay(absl::ToCivilDay(clock_.Now(), absl::UTCTimeZone())) + 1,
                      absl::UTCTimeZone());
  EXPECT_NEAR(absl::ToDoubleSeconds(RetryAdviceOf(refused.status())->retry_after),
              absl::ToDoubleSeconds(midnight - clock_.Now()), 0.001);
  EXPECT_EQ(first_inner->calls() + second_inner->calls(), 3);
  EXPECT_EQ(second->stats()->calls_left_today, 0);

  // A process started now (a restart, a new replica) reads what the day used.
  std::unique_ptr<GuardedProvider> third = Guard({AQuote()}, options);
  ASSERT_TRUE(third->LoadDailyCalls().ok());
  EXPECT_EQ(third->stats()->calls_left_today, 0);
  EXPECT_EQ(third->FetchQuote("AAPL").status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(inner_->calls(), 0);
  // The next UTC day starts from nothing.
  clock_.Set(midnight);
  EXPECT_TRUE(third->FetchQuote("AAPL").ok());
}

// While the ledger is out of reach the process counts alone, and never refuses for that.
TEST_F(GuardedProviderTest, WithoutItsLedgerAProcessCountsAlone) {
  FakeLedger ledger;
  ledger.Fail(absl::UnavailableError("database down"));
  GuardOptions options;
  options.per_day = 2;
  options.ledger = &ledger;
  std::unique_ptr<GuardedProvider> guard =
      Guard(std::vector<absl::StatusOr<Quote>>(3, AQuote()), options);
  EXPECT_FALSE(guard->LoadDailyCalls().ok());
  EXPECT_TRUE(guard->FetchQuote("AAPL").ok());
  EXPECT_TRUE(guard->FetchQuote("AAPL").ok());
  EXPECT_EQ(guard->FetchQuote("AAPL").status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(inner_->calls(), 2);
}

}  // namespace
}  // namespace marketdata
