#include "services/pricing/provider_shares.h"

#include "gtest/gtest.h"
#include "services/common/errors.h"

namespace marketdata {
namespace {

class LimitedProvider final : public PriceProvider {
 public:
  LimitedProvider(std::string name, double per_minute)
      : name_(std::move(name)), per_minute_(per_minute) {}
  std::string name() const override { return name_; }
  bool configured() const override { return true; }
  absl::StatusOr<Quote> FetchQuote(absl::string_view) override {
    return absl::UnimplementedError("not called");
  }
  std::optional<ProviderStats> stats() const override {
    ProviderStats stats;
    stats.rate_limit_per_minute = per_minute_;
    return stats;
  }

 private:
  std::string name_;
  double per_minute_;
};

class ProviderSharesTest : public ::testing::Test {
 protected:
  absl::Time now_ = absl::FromUnixSeconds(1700000000);
  ProviderShares shares_{0.5, [this] { return now_; }};
};

TEST_F(ProviderSharesTest, AKeyGetsItsShareAndTheOthersKeepTheirs) {
  LimitedProvider alpha("alpha_vantage", 6);  // shares of 3 a minute, bursts of 3
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(shares_.Take(1, alpha).ok()) << i;
  absl::Status refused = shares_.Take(1, alpha);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(refused.message().find("share of alpha_vantage"), std::string::npos);
  std::optional<RetryAdvice> advice = RetryAdviceOf(refused);
  ASSERT_TRUE(advice.has_value());
  EXPECT_EQ(advice->retry_after, absl::Seconds(20));  // one call every 20 s at 3 a minute
  EXPECT_EQ(advice->limit, 3);
  // Another key is not affected, nor is the same key on another provider.
  EXPECT_TRUE(shares_.Take(2, alpha).ok());
  LimitedProvider finnhub("finnhub", 60);
  EXPECT_TRUE(shares_.Take(1, finnhub).ok());
  now_ += absl::Seconds(20);
  EXPECT_TRUE(shares_.Take(1, alpha).ok());
}

TEST_F(ProviderSharesTest, ProvidersWithoutALimitAreNotCounted) {
  LimitedProvider test("test", 0);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(shares_.Take(1, test).ok());
}

TEST_F(ProviderSharesTest, ATinyLimitStillAllowsOneCallAMinute) {
  LimitedProvider slow("slow", 1);  // half a call a minute rounds up to one
  EXPECT_TRUE(shares_.Take(1, slow).ok());
  EXPECT_FALSE(shares_.Take(1, slow).ok());
  now_ += absl::Minutes(1);
  EXPECT_TRUE(shares_.Take(1, slow).ok());
}

}  // namespace
}  // namespace marketdata
