#include "services/polling/job_rules.h"

#include "gtest/gtest.h"
#include "services/common/grpc/errors.h"
#include "services/providers/test_provider.h"

namespace marketdata {
namespace {

class JobConfigTest : public ::testing::Test {
 protected:
  JobConfigTest() { providers_.Add(std::make_unique<TestProvider>(1)); }
  ProviderRegistry providers_{"test"};
  PollingLimits limits_;
};

TEST_F(JobConfigTest, NormalisesSymbolsAndDefaultsTheProvider) {
  auto config = ValidateJobConfig({"msft", "aapl", "MSFT", " googl "}, 5, "", limits_, providers_);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->symbols, (std::vector<std::string>{"MSFT", "AAPL", "GOOGL"}));
  EXPECT_EQ(config->interval_seconds, 5);
  EXPECT_EQ(config->provider, "test");
}

TEST_F(JobConfigTest, RejectsEveryBadField) {
  struct Case {
    std::vector<std::string> symbols;
    int interval;
    std::string provider;
    std::string message;
    bool missing;
  };
  std::vector<std::string> too_many;
  for (int i = 0; i < 51; ++i) too_many.push_back("S" + std::to_string(i));
  for (const Case& c : std::vector<Case>{
           {{}, 5, "test", "symbols is required", true},
           {{"AAPL", "not valid"}, 5, "test", "invalid symbol", false},
           {{"AAPL", ""}, 5, "test", "empty", false},
           {too_many, 5, "test", "at most 50", false},
           {{"AAPL"}, 0, "test", "interval is required", true},
           {{"AAPL"}, -1, "test", "between 1 and 86400", false},
           {{"AAPL"}, 86401, "test", "between 1 and 86400", false},
           {{"AAPL"}, 5, "nope", "unknown provider", false},
       }) {
    auto config = ValidateJobConfig(c.symbols, c.interval, c.provider, limits_, providers_);
    ASSERT_FALSE(config.ok()) << c.message;
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(config.status().message().find(c.message), absl::string_view::npos)
        << config.status().message();
    EXPECT_EQ(ReasonOf(config.status()).has_value(), c.missing) << c.message;
  }
}

TEST_F(JobConfigTest, LimitsAreConfigurable) {
  limits_.max_symbols = 2;
  limits_.min_interval_seconds = 10;
  EXPECT_FALSE(ValidateJobConfig({"A", "B", "C"}, 10, "", limits_, providers_).ok());
  EXPECT_FALSE(ValidateJobConfig({"A"}, 5, "", limits_, providers_).ok());
  EXPECT_TRUE(ValidateJobConfig({"A", "B", "a"}, 10, "", limits_, providers_).ok());
}

TEST(JobIdTest, HasThePrefixAndEightHexDigits) {
  for (int i = 0; i < 100; ++i) {
    std::string id = NewJobId();
    EXPECT_TRUE(IsValidJobId(id)) << id;
  }
  EXPECT_NE(NewJobId(), NewJobId());
  EXPECT_FALSE(IsValidJobId("poll_1234567"));
  EXPECT_FALSE(IsValidJobId("poll_1234567G"));
  EXPECT_FALSE(IsValidJobId("job_12345678"));
}

TEST(JobStatusTest, RoundTrips) {
  for (JobStatus s : {JobStatus::kAccepted, JobStatus::kRunning, JobStatus::kStopped,
                      JobStatus::kFailed}) {
    EXPECT_EQ(*ParseJobStatus(JobStatusName(s)), s);
  }
  EXPECT_FALSE(ParseJobStatus("paused").ok());
}

TEST(NextRunAfterTest, StaysOnTheGridWithoutDrift) {
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  const absl::Duration interval = absl::Seconds(5);
  // The run ended quickly: the next tick is one interval after the planned one.
  EXPECT_EQ(NextRunAfter(t0, interval, t0 + absl::Milliseconds(300)), t0 + absl::Seconds(5));
  // The run overran two ticks: they are skipped, not bunched.
  EXPECT_EQ(NextRunAfter(t0, interval, t0 + absl::Seconds(12)), t0 + absl::Seconds(15));
  // Exactly on a tick: the next one.
  EXPECT_EQ(NextRunAfter(t0, interval, t0 + absl::Seconds(10)), t0 + absl::Seconds(15));
}

}  // namespace
}  // namespace marketdata
