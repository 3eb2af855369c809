#include "services/pricing/provider_shares.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "services/common/grpc/errors.h"
#include "services/common/testing/fake_clock.h"
#include "services/providers/fake_provider.h"

namespace marketdata {
namespace {

// A provider of `per_minute` calls a minute (0: no limit); never called.
std::unique_ptr<FakeProvider> Limited(std::string name, double per_minute) {
  auto provider = std::make_unique<FakeProvider>(std::move(name));
  ProviderStats stats;
  stats.rate_limit_per_minute = per_minute;
  provider->set_stats(stats);
  provider->Fail(absl::UnimplementedError("not called"));
  return provider;
}

class ProviderSharesTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  ProviderShares shares_{0.5, clock_.AsFunction()};
};

TEST_F(ProviderSharesTest, AKeyGetsItsShareAndTheOthersKeepTheirs) {
  const auto alpha = Limited("alpha_vantage", 6);  // shares of 3 a minute, bursts of 3
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(shares_.Take(1, *alpha).ok()) << i;
  absl::Status refused = shares_.Take(1, *alpha);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(refused.message().find("share of alpha_vantage"), std::string::npos);
  std::optional<RetryAdvice> advice = RetryAdviceOf(refused);
  ASSERT_TRUE(advice.has_value());
  EXPECT_EQ(advice->retry_after, absl::Seconds(20));  // one call every 20 s at 3 a minute
  EXPECT_EQ(advice->limit, 3);
  // Another key is not affected, nor is the same key on another provider.
  EXPECT_TRUE(shares_.Take(2, *alpha).ok());
  const auto finnhub = Limited("finnhub", 60);
  EXPECT_TRUE(shares_.Take(1, *finnhub).ok());
  clock_.Advance(absl::Seconds(20));
  EXPECT_TRUE(shares_.Take(1, *alpha).ok());
}

TEST_F(ProviderSharesTest, ProvidersWithoutALimitAreNotCounted) {
  const auto test = Limited("test", 0);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(shares_.Take(1, *test).ok());
}

TEST_F(ProviderSharesTest, ATinyLimitStillAllowsOneCallAMinute) {
  const auto slow = Limited("slow", 1);  // half a call a minute rounds up to one
  EXPECT_TRUE(shares_.Take(1, *slow).ok());
  EXPECT_FALSE(shares_.Take(1, *slow).ok());
  clock_.Advance(absl::Minutes(1));
  EXPECT_TRUE(shares_.Take(1, *slow).ok());
}

}  // namespace
}  // namespace marketdata
