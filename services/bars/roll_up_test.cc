#include "services/bars/roll_up.h"

#include "gtest/gtest.h"

namespace marketdata {
namespace {

BarKey Key(int interval) { return BarKey{"AAPL", interval, absl::FromUnixSeconds(1767225600)}; }

TEST(RollUpTest, TheSmallestIntervalFromPricesItsMultiplesRolledUp) {
  BarPlan plan;
  plan.recompute = {Key(60), Key(300), Key(90), Key(3600)};
  plan.recompute_through = {7, 8, 9, 10};
  Bar updated;
  updated.key = Key(300);
  Bar base;
  base.key = Key(60);
  plan.updated = {updated, base};
  const BarSteps steps = PlanBarSteps({Key(60), Key(90), Key(300), Key(3600)}, plan);
  EXPECT_EQ(steps.base, 60);
  // 90 s is no multiple of a minute: from prices, like the minute itself.
  ASSERT_EQ(steps.from_prices.size(), 2u);
  EXPECT_EQ(steps.from_prices[0].interval_seconds, 60);
  EXPECT_EQ(steps.from_prices[1].interval_seconds, 90);
  EXPECT_EQ(steps.through, (std::vector<int64_t>{7, 9}));
  ASSERT_EQ(steps.rolled_up.size(), 2u);
  EXPECT_EQ(steps.rolled_up[0].interval_seconds, 300);
  EXPECT_EQ(steps.rolled_up[1].interval_seconds, 3600);
  ASSERT_EQ(steps.first.size(), 1u);
  EXPECT_EQ(steps.first[0].key.interval_seconds, 60);
  ASSERT_EQ(steps.later.size(), 1u);
  EXPECT_EQ(steps.later[0].key.interval_seconds, 300);
}

TEST(RollUpTest, WithoutAThroughIdEveryPriceCounts) {
  BarPlan plan;
  plan.recompute = {Key(60)};
  const BarSteps steps = PlanBarSteps({Key(60)}, plan);
  EXPECT_EQ(steps.through, (std::vector<int64_t>{std::numeric_limits<int64_t>::max()}));
}

}  // namespace
}  // namespace marketdata
