#include "services/common/grpc/request_checks.h"

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
}

TEST(CheckTimeRangeTest, AnEmptyRangeIsValidAReversedOneIsNot) {
  const absl::Time t = absl::FromUnixSeconds(1767225600);
  EXPECT_TRUE(CheckTimeRange(t, t).ok());
  absl::Status reversed = CheckTimeRange(t + absl::Seconds(1), t);
  EXPECT_EQ(reversed.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(reversed.message(), "start_time must not be after end_time");
}

TEST(CheckLimitTest, ZeroMeansDefault) {
  EXPECT_EQ(*CheckLimit(0, 100, 1000), 100);
  EXPECT_FALSE(CheckLimit(1001, 100, 1000).ok());
  EXPECT_FALSE(CheckLimit(-1, 100, 1000).ok());
}

TEST(CheckPageTokenTest, OnlyTheShapesTheStoresWrite) {
  for (const char* ok : {"", "1767225600000000.42", "0.0", "99999999999999999.999999999999999999"}) {
    EXPECT_TRUE(CheckCursorPageToken(ok).ok()) << ok;
  }
  for (const char* bad : {"x", ".", "1.", ".1", "-1.2", "+1.2", " 1.2", "1.2 ", "1.2.3", "1.a",
                          "100000000000000000.1", "1.1000000000000000000", "1767225600000000"}) {
    absl::Status s = CheckCursorPageToken(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(s.message(), "invalid page_token");
  }
  for (const char* ok : {"", "1767225600000000.poll_0123abcd"}) {
    EXPECT_TRUE(CheckJobPageToken(ok).ok()) << ok;
  }
  for (const char* bad : {"x", "1.poll_0123ABCD", "1.poll_0123abc", "1.poll_0123abcde", "1.",
                          "-1.poll_0123abcd", "1.job_0123abcd", "poll_0123abcd"}) {
    EXPECT_EQ(CheckJobPageToken(bad).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace marketdata
