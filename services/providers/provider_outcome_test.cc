#include "services/providers/provider_outcome.h"

#include "gtest/gtest.h"

namespace marketdata {
namespace {

absl::string_view Outcome(const absl::Status& status) {
  return ProviderOutcomeName(OutcomeOf(status));
}

TEST(ProviderOutcomeTest, ClassifiesByCodeAndTimeoutMark) {
  EXPECT_EQ(Outcome(absl::OkStatus()), "ok");
  EXPECT_EQ(Outcome(absl::NotFoundError("no such symbol")), "not_found");
  EXPECT_EQ(Outcome(absl::ResourceExhaustedError("limit")), "rate_limited");
  EXPECT_EQ(Outcome(absl::DeadlineExceededError("late")), "timeout");
  EXPECT_EQ(Outcome(absl::UnavailableError("HTTP 503")), "error");
  EXPECT_EQ(Outcome(MarkedTimeout(absl::UnavailableError("timed out"))), "timeout");
  EXPECT_EQ(Outcome(absl::InternalError("bug")), "error");
}

TEST(ProviderOutcomeTest, RephrasedKeepsCodeAndMark) {
  const absl::Status rephrased =
      Rephrased(MarkedTimeout(absl::UnavailableError("GET /x timed out")), "finnhub: timed out");
  EXPECT_EQ(rephrased.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(rephrased.message(), "finnhub: timed out");
  EXPECT_TRUE(IsTimeout(rephrased));
  EXPECT_FALSE(IsTimeout(Rephrased(absl::UnavailableError("down"), "finnhub: down")));
}

TEST(ProviderOutcomeTest, MarkingOkChangesNothing) {
  EXPECT_TRUE(MarkedTimeout(absl::OkStatus()).ok());
  EXPECT_FALSE(IsTimeout(MarkedTimeout(absl::OkStatus())));
}

}  // namespace
}  // namespace marketdata
