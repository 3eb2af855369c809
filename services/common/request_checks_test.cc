#include "services/common/request_checks.h"

#include "gtest/gtest.h"

namespace marketdata {
namespace {

TEST(CheckTimeRangeTest, BoundsOutsideTheYears1To9999AreRefused) {
  const absl::Time ok = absl::FromUnixSeconds(1767225600);
  EXPECT_TRUE(CheckTimeRange(ok, ok + absl::Seconds(1)).ok());
  EXPECT_TRUE(CheckTimeRange(std::nullopt, std::nullopt).ok());
  EXPECT_TRUE(CheckTimeRange(absl::FromUnixSeconds(-62135596800), std::nullopt).ok());
  for (absl::Time bad : {absl::FromUnixSeconds(-62135596801), absl::FromUnixSeconds(253402300800),
                         absl::FromUnixSeconds(int64_t{1} << 50), absl::InfiniteFuture()}) {
    absl::Status start = CheckTimeRange(bad, std::nullopt);
    EXPECT_EQ(start.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(start.message().find("start_time"), absl::string_view::npos);
    absl::Status end = CheckTimeRange(std::nullopt, bad);
    EXPECT_EQ(end.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(end.message().find("end_time"), absl::string_view::npos);
  }
  EXPECT_EQ(CheckTimeRange(ok, ok).code(), absl::StatusCode::kInvalidArgument);
}

TEST(CheckLimitTest, ZeroMeansDefault) {
  EXPECT_EQ(*CheckLimit(0, 100, 1000), 100);
  EXPECT_FALSE(CheckLimit(1001, 100, 1000).ok());
  EXPECT_FALSE(CheckLimit(-1, 100, 1000).ok());
}

}  // namespace
}  // namespace marketdata
