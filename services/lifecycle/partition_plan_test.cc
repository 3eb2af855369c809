#include "services/lifecycle/partition_plan.h"

#include "gtest/gtest.h"

namespace marketdata {
namespace {

absl::Time At(const char* text) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, text, &t, &err)) << err;
  return t;
}

TimePartition Day(const char* lower, const char* upper) {
  return {std::string("t_") + lower, At(lower), At(upper)};
}

PartitionPolicy Daily(int ahead, absl::Duration retention) {
  PartitionPolicy p;
  p.length = absl::Hours(24);
  p.ahead = ahead;
  p.retention = retention;
  return p;
}

TEST(PartitionPlanTest, AnEmptyTableGetsYesterdayTodayAndTheDaysAhead) {
  const PartitionPlan plan =
      PlanPartitions({}, Daily(3, absl::ZeroDuration()), At("2026-12-05T13:45:00Z"));
  ASSERT_EQ(plan.create.size(), 5u);
  EXPECT_EQ(plan.create.front().first, At("2026-12-04T00:00:00Z"));
  EXPECT_EQ(plan.create.back().second, At("2026-12-09T00:00:00Z"));
  for (size_t i = 1; i < plan.create.size(); ++i) {
    EXPECT_EQ(plan.create[i].first, plan.create[i - 1].second) << "contiguous";
  }
  EXPECT_TRUE(plan.drop.empty());
}

TEST(PartitionPlanTest, ATableOfQuoteTimesReachesBackOverTheLateWindow) {
  PartitionPolicy prices = Daily(3, absl::Hours(24 * 8));
  prices.behind = absl::Hours(24 * 8);  // a late window of 7 days and one partition
  const PartitionPlan plan = PlanPartitions({}, prices, At("2026-12-05T13:45:00Z"));
  ASSERT_EQ(plan.create.size(), 12u);
  EXPECT_EQ(plan.create.front().first, At("2026-11-27T00:00:00Z"));
  EXPECT_EQ(plan.create.back().second, At("2026-12-09T00:00:00Z"));
  // Nothing it makes is past the retention already.
  EXPECT_TRUE(PlanPartitions({Day("2026-11-27T00:00:00Z", "2026-11-28T00:00:00Z")}, prices,
                             At("2026-12-05T13:45:00Z"))
                  .drop.empty());
}

TEST(PartitionPlanTest, MakesOnlyWhatIsMissingAhead) {
  const std::vector<TimePartition> existing = {
      Day("2026-12-04T00:00:00Z", "2026-12-05T00:00:00Z"),
      Day("2026-12-05T00:00:00Z", "2026-12-06T00:00:00Z"),
      Day("2026-12-06T00:00:00Z", "2026-12-07T00:00:00Z")};
  const PartitionPlan plan =
      PlanPartitions(existing, Daily(3, absl::ZeroDuration()), At("2026-12-05T23:59:59Z"));
  ASSERT_EQ(plan.create.size(), 2u);
  EXPECT_EQ(plan.create[0].first, At("2026-12-07T00:00:00Z"));
  EXPECT_EQ(plan.create[1].second, At("2026-12-09T00:00:00Z"));
  EXPECT_TRUE(PlanPartitions(existing, Daily(1, absl::ZeroDuration()),
                             At("2026-12-05T10:00:00Z")).create.empty());
}

TEST(PartitionPlanTest, ATableAttachedWholeIsFollowedFromItsEndBackOntoTheGrid) {
  TimePartition legacy{"t_legacy", std::nullopt, At("2026-12-05T13:45:10Z")};
  const PartitionPlan plan =
      PlanPartitions({legacy}, Daily(1, absl::Hours(24)), At("2026-12-05T13:45:11Z"));
  ASSERT_EQ(plan.create.size(), 2u);
  EXPECT_EQ(plan.create[0].first, At("2026-12-05T13:45:10Z"));
  EXPECT_EQ(plan.create[0].second, At("2026-12-06T00:00:00Z"));
  EXPECT_EQ(plan.create[1].second, At("2026-12-07T00:00:00Z"));
  EXPECT_TRUE(plan.drop.empty()) << "its rows are younger than the retention";
  const PartitionPlan later =
      PlanPartitions({legacy}, Daily(1, absl::Hours(24)), At("2026-12-06T13:45:10Z"));
  ASSERT_EQ(later.drop.size(), 1u);
  EXPECT_EQ(later.drop[0].name, "t_legacy");
}

TEST(PartitionPlanTest, DropsWhatIsWhollyOlderThanTheRetention) {
  const std::vector<TimePartition> existing = {
      Day("2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z"),
      Day("2026-12-02T00:00:00Z", "2026-12-03T00:00:00Z"),
      Day("2026-12-03T00:00:00Z", "2026-12-04T00:00:00Z"),
      Day("2026-12-04T00:00:00Z", "2026-12-05T00:00:00Z")};
  const PartitionPlan plan =
      PlanPartitions(existing, Daily(1, absl::Hours(48)), At("2026-12-05T00:00:00Z"));
  ASSERT_EQ(plan.drop.size(), 2u);
  EXPECT_EQ(plan.drop[0].upper, At("2026-12-02T00:00:00Z"));
  EXPECT_EQ(plan.drop[1].upper, At("2026-12-03T00:00:00Z"));
}

TEST(PartitionPlanTest, NeverDropsThePartitionOfNowWhateverTheRetention) {
  const std::vector<TimePartition> existing = {
      Day("2026-12-05T00:00:00Z", "2026-12-06T00:00:00Z")};
  PartitionPolicy p = Daily(1, absl::Seconds(1));
  EXPECT_TRUE(PlanPartitions(existing, p, At("2026-12-05T12:00:00Z")).drop.empty());
}

TEST(PartitionPlanTest, MinutePartitionsForTests) {
  PartitionPolicy p;
  p.length = absl::Minutes(1);
  p.ahead = 3;
  p.retention = absl::Minutes(2);
  const PartitionPlan plan = PlanPartitions({}, p, At("2026-12-05T13:45:30Z"));
  ASSERT_EQ(plan.create.size(), 5u);
  EXPECT_EQ(plan.create.front().first, At("2026-12-05T13:44:00Z"));
  EXPECT_EQ(plan.create.back().second, At("2026-12-05T13:49:00Z"));
}

TEST(PartitionPlanTest, CountsThePartitionsAheadOfTheCurrentOne) {
  const std::vector<TimePartition> existing = {
      Day("2026-12-05T00:00:00Z", "2026-12-06T00:00:00Z"),
      Day("2026-12-06T00:00:00Z", "2026-12-07T00:00:00Z"),
      Day("2026-12-07T00:00:00Z", "2026-12-08T00:00:00Z")};
  EXPECT_EQ(PartitionsAhead(existing, absl::Hours(24), At("2026-12-05T10:00:00Z")), 2);
  EXPECT_EQ(PartitionsAhead(existing, absl::Hours(24), At("2026-12-07T10:00:00Z")), 0);
  TimePartition pending = Day("2026-12-08T00:00:00Z", "2026-12-09T00:00:00Z");
  pending.detach_pending = true;
  EXPECT_EQ(PartitionsAhead({pending}, absl::Hours(24), At("2026-12-05T10:00:00Z")), 0);
  TimePartition legacy{"t_legacy", std::nullopt, At("2026-12-06T06:00:00Z")};
  EXPECT_EQ(PartitionsAhead({legacy}, absl::Minutes(1), At("2026-12-05T10:00:30Z")), 1199);
}

TEST(PartitionPlanTest, PartitionStartIsOnTheGridBeforeTheEpochToo) {
  EXPECT_EQ(PartitionStart(At("1969-12-31T23:00:00Z"), absl::Hours(24)),
            At("1969-12-31T00:00:00Z"));
  EXPECT_EQ(PartitionStart(At("2026-12-05T00:00:00Z"), absl::Hours(24)),
            At("2026-12-05T00:00:00Z"));
}

}  // namespace
}  // namespace marketdata
