#include "services/common/metrics/histogram.h"

#include <cmath>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace marketdata {
namespace {

TEST(HistogramTest, CountsAreCumulativeAndBoundsInclusive) {
  Histogram h({0.1, 1});
  h.Observe(0.05);
  h.Observe(0.1);  // le="0.1" includes its bound
  h.Observe(0.5);
  h.Observe(7);
  HistogramSnapshot s = h.Snapshot();
  ASSERT_EQ(s.upper_bounds.size(), 3u);
  EXPECT_TRUE(std::isinf(s.upper_bounds.back()));
  EXPECT_EQ(s.cumulative_counts, (std::vector<uint64_t>{2, 3, 4}));
  EXPECT_EQ(s.count, 4u);
  EXPECT_DOUBLE_EQ(s.sum, 7.65);
}

TEST(HistogramTest, ConcurrentObservationsAreAllCounted) {
  Histogram h(LatencyBuckets());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h] {
      for (int i = 0; i < 10000; ++i) h.Observe(0.002);
    });
  }
  for (std::thread& t : threads) t.join();
  HistogramSnapshot s = h.Snapshot();
  EXPECT_EQ(s.count, 40000u);
  EXPECT_NEAR(s.sum, 80.0, 1e-6);
}

}  // namespace
}  // namespace marketdata
