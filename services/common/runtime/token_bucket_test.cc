#include "services/common/runtime/token_bucket.h"

#include <limits>

#include "gtest/gtest.h"
#include "services/common/testing/fake_clock.h"

namespace marketdata {
namespace {

TEST(TokenBucketTest, StartsFullAndEmptiesAfterTheBurst) {
  FakeClock clock;
  TokenBucket bucket(60, 3, clock.AsFunction());
  EXPECT_DOUBLE_EQ(bucket.available(), 3);
  EXPECT_TRUE(bucket.TryAcquire());
  EXPECT_TRUE(bucket.TryAcquire());
  EXPECT_TRUE(bucket.TryAcquire());
  EXPECT_FALSE(bucket.TryAcquire());
  EXPECT_DOUBLE_EQ(bucket.available(), 0);
}

TEST(TokenBucketTest, RefillsAtTheConfiguredRate) {
  FakeClock clock;
  TokenBucket bucket(5, 1, clock.AsFunction());  // one token every 12 s
  EXPECT_TRUE(bucket.TryAcquire());
  EXPECT_FALSE(bucket.TryAcquire());
  clock.Advance(absl::Seconds(6));
  EXPECT_NEAR(bucket.available(), 0.5, 1e-9);
  EXPECT_FALSE(bucket.TryAcquire());
  clock.Advance(absl::Seconds(6));
  EXPECT_TRUE(bucket.TryAcquire());
  EXPECT_FALSE(bucket.TryAcquire());
}

TEST(TokenBucketTest, NeverHoldsMoreThanTheBurst) {
  FakeClock clock;
  TokenBucket bucket(60, 2, clock.AsFunction());
  clock.Advance(absl::Hours(1));
  EXPECT_DOUBLE_EQ(bucket.available(), 2);
  EXPECT_TRUE(bucket.TryAcquire());
  EXPECT_TRUE(bucket.TryAcquire());
  EXPECT_FALSE(bucket.TryAcquire());
}

TEST(TokenBucketTest, SustainedRateMatchesPerMinute) {
  FakeClock clock;
  TokenBucket bucket(60, 1, clock.AsFunction());
  int granted = 0;
  for (int i = 0; i < 600; ++i) {  // ten minutes in 1 s steps, trying every step
    if (bucket.TryAcquire()) ++granted;
    clock.Advance(absl::Seconds(1));
  }
  EXPECT_EQ(granted, 600);
  for (int i = 0; i < 6000; ++i) {  // ten minutes in 100 ms steps
    if (bucket.TryAcquire()) ++granted;
    clock.Advance(absl::Milliseconds(100));
  }
  EXPECT_NEAR(granted, 1200, 1);  // rounding must not lose tokens
}

TEST(TokenBucketTest, ClockSteppingBackTakesNothingAway) {
  FakeClock clock;
  TokenBucket bucket(60, 1, clock.AsFunction());
  EXPECT_TRUE(bucket.TryAcquire());
  clock.Advance(absl::Seconds(-30));
  EXPECT_DOUBLE_EQ(bucket.available(), 0);
  EXPECT_FALSE(bucket.TryAcquire());
}

TEST(TokenBucketTest, InfiniteRateNeverRunsOut) {
  TokenBucket bucket(std::numeric_limits<double>::infinity(), 1);
  EXPECT_TRUE(bucket.unlimited());
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(bucket.TryAcquire());
  EXPECT_TRUE(std::isinf(bucket.available()));
}

}  // namespace
}  // namespace marketdata
