#include "services/providers/guarded_provider.h"

#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/common/grpc/errors.h"
#include "services/common/testing/fake_clock.h"
#include "services/providers/fake_provider.h"

namespace marketdata {
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

TEST_F(GuardedProviderTest, EmptyBucketRefusesWithoutCallingTheProvider) {
  GuardOptions options;
  options.per_minute = 5;
  options.burst = 2;
  auto guarded = Guard({AQuote()}, options);
  EXPECT_TRUE(guarded->FetchQuote("AAPL").ok());
  EXPECT_TRUE(guarded->FetchQuote("AAPL").ok());
  auto refused = guarded->FetchQuote("AAPL");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.status().message(), "outbound rate limit for scripted reached (5/min)");
  EXPECT_EQ(inner_->calls(), 2);
  // The client learns when the next call may go: a token comes every 12 s at 5/min.
  std::optional<RetryAdvice> advice = RetryAdviceOf(refused.status());
  ASSERT_TRUE(advice.has_value());
  EXPECT_GT(advice->retry_after, absl::ZeroDuration());
  EXPECT_LE(advice->retry_after, absl::Seconds(12));
  EXPECT_EQ(advice->limit, 5);
}

TEST_F(GuardedProviderTest, BucketRefillsAtTheConfiguredRate) {
  GuardOptions options;
  options.per_minute = 6;  // one token every 10 s
  options.burst = 1;
  auto guarded = Guard({AQuote()}, options);
  EXPECT_TRUE(guarded->FetchQuote("AAPL").ok());
  EXPECT_FALSE(guarded->FetchQuote("AAPL").ok());
  clock_.Advance(absl::Seconds(9));
  EXPECT_FALSE(guarded->FetchQuote("AAPL").ok());
  clock_.Advance(absl::Seconds(1));
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
  EXPECT_EQ(inner_->calls(), 3);  // no retries, and no tokens spent on it
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(GuardedProviderTest, RetriesNeedTokensToo) {
  GuardOptions options;
  options.per_minute = 1;
  options.burst = 2;
  options.max_retries = 5;
  auto guarded = Guard({kDown}, options);
  EXPECT_EQ(guarded->FetchQuote("AAPL").status(), kDown);
  EXPECT_EQ(inner_->calls(), 2);
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
  options.burst = 10;
  options.max_retries = 0;
  auto guarded = Guard({AQuote(), absl::NotFoundError("unknown"), kDown,
                        absl::ResourceExhaustedError("limit"), AQuote()},
                       options);
  auto empty = guarded->stats();
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->recent_requests, 0);
  EXPECT_EQ(empty->recent_error_rate, 0);
  EXPECT_EQ(empty->rate_limit_per_minute, 60);
  EXPECT_EQ(empty->tokens_available, 10);

  for (int i = 0; i < 5; ++i) guarded->FetchQuote("AAPL").IgnoreError();
  auto stats = guarded->stats();
  EXPECT_EQ(stats->recent_requests, 5);
  EXPECT_DOUBLE_EQ(stats->recent_error_rate, 2.0 / 5);
  EXPECT_DOUBLE_EQ(stats->tokens_available, 5);
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
  EXPECT_EQ(stats->recent_requests, 100);
}

TEST_F(GuardedProviderTest, ConcurrentCallsNeverExceedTheBucket) {
  GuardOptions options;
  options.per_minute = 1;
  options.burst = 50;
  auto guarded = Guard({AQuote()}, options);
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
  EXPECT_EQ(inner_->calls(), 50);
  EXPECT_EQ(guarded->stats()->recent_requests, 100);
  EXPECT_GE(guarded->stats()->recent_error_rate, 0.5);  // 150 of the 200 calls were refused
}

}  // namespace
}  // namespace marketdata
