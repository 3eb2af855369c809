#include "services/bars/bars.h"

#include <algorithm>
#include <random>

#include "absl/container/flat_hash_set.h"
#include "gtest/gtest.h"
#include "services/domain/test_prices.h"

namespace marketdata {
namespace {

const absl::Time kT0 = absl::FromUnixSeconds(1767225600);  // 2026-01-01 00:00 UTC

StoredPrice Event(int64_t id, absl::Duration at, double price, std::optional<double> volume = {},
                  const std::string& symbol = "AAPL") {
  return TestPrice(symbol, id, price, kT0 + at, volume);
}

// The definition, straight: every event of the bucket, ordered by (timestamp, id).
Bar Reference(const std::vector<StoredPrice>& all, const BarKey& key) {
  std::vector<StoredPrice> in;
  for (const StoredPrice& e : all) {
    const absl::Time ts = e.quote.timestamp;
    if (e.quote.symbol == key.symbol && BucketStart(ts, key.interval_seconds) == key.start) in.push_back(e);
  }
  std::sort(in.begin(), in.end(), [](const StoredPrice& a, const StoredPrice& b) {
    return std::make_pair(a.quote.timestamp, a.price_point_id) <
           std::make_pair(b.quote.timestamp, b.price_point_id);
  });
  Bar bar;
  bar.key = key;
  bar.open = in.front().quote.price;
  bar.close = in.back().quote.price;
  bar.open_ts = in.front().quote.timestamp;
  bar.open_id = in.front().price_point_id;
  bar.close_ts = in.back().quote.timestamp;
  bar.close_id = in.back().price_point_id;
  bar.high = bar.low = in.front().quote.price;
  for (const StoredPrice& e : in) {
    bar.high = std::max(bar.high, e.quote.price);
    bar.low = std::min(bar.low, e.quote.price);
    if (e.quote.volume.has_value()) bar.volume = bar.volume.value_or(0) + *e.quote.volume;
    bar.max_id = std::max(bar.max_id, e.price_point_id);
  }
  bar.price_count = static_cast<int64_t>(in.size());
  return bar;
}

void ExpectSame(const Bar& got, const Bar& want) {
  EXPECT_EQ(got.open, want.open);
  EXPECT_EQ(got.high, want.high);
  EXPECT_EQ(got.low, want.low);
  EXPECT_EQ(got.close, want.close);
  EXPECT_EQ(got.price_count, want.price_count);
  EXPECT_EQ(got.volume, want.volume);
  EXPECT_EQ(got.max_id, want.max_id);
}

TEST(BarsTest, BucketsAreAlignedToTheEpoch) {
  EXPECT_EQ(BucketStart(kT0 + absl::Seconds(59), 60), kT0);
  EXPECT_EQ(BucketStart(kT0 + absl::Seconds(60), 60), kT0 + absl::Seconds(60));
  EXPECT_EQ(BucketStart(kT0 + absl::Minutes(61), 3600), kT0 + absl::Hours(1));
  EXPECT_EQ(BucketStart(absl::FromUnixSeconds(-1), 60), absl::FromUnixSeconds(-60));
}

TEST(BarsTest, IntervalsParseAndPrint) {
  EXPECT_EQ(*ParseBarInterval("1m"), 60);
  EXPECT_EQ(*ParseBarInterval("5m"), 300);
  EXPECT_EQ(*ParseBarInterval("1h"), 3600);
  EXPECT_EQ(*ParseBarInterval("1d"), 86400);
  EXPECT_EQ(*ParseBarInterval("90s"), 90);
  for (const char* bad : {"", "m", "0m", "05m", "-1m", "+1m", "1w", "2d", "1.5h", "1 m", "1M"}) {
    EXPECT_EQ(ParseBarInterval(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(BarIntervalName(60), "1m");
  EXPECT_EQ(BarIntervalName(3600), "1h");
  EXPECT_EQ(BarIntervalName(90), "90s");
  EXPECT_EQ(BarIntervalName(86400), "1d");
}

TEST(BarsTest, ANewBarTakesTheBatchInTimestampOrder) {
  // Arrival order is not timestamp order: the open is the earliest timestamp, not the first event.
  std::vector<StoredPrice> events = {Event(2, absl::Seconds(30), 11, 100),
                                        Event(1, absl::Seconds(10), 10, 200),
                                        Event(3, absl::Seconds(50), 9, {})};
  BarPlan plan = PlanBars(events, {60}, {});
  ASSERT_EQ(plan.updated.size(), 1u);
  EXPECT_TRUE(plan.recompute.empty());
  const Bar& bar = plan.updated[0];
  EXPECT_EQ(bar.key.start, kT0);
  EXPECT_EQ(bar.open, 10);
  EXPECT_EQ(bar.close, 9);
  EXPECT_EQ(bar.high, 11);
  EXPECT_EQ(bar.low, 9);
  EXPECT_EQ(bar.price_count, 3);
  EXPECT_EQ(bar.volume, 300);
  EXPECT_EQ(bar.max_id, 3);
}

TEST(BarsTest, VolumeStaysUnsetWithoutVolumes) {
  BarPlan plan = PlanBars({Event(1, absl::Seconds(1), 10)}, {60}, {});
  ASSERT_EQ(plan.updated.size(), 1u);
  EXPECT_FALSE(plan.updated[0].volume.has_value());
}

TEST(BarsTest, EachIntervalGetsItsBars) {
  std::vector<StoredPrice> events = {Event(1, absl::Seconds(10), 10), Event(2, absl::Seconds(70), 11)};
  BarPlan plan = PlanBars(events, {60, 3600}, {});
  ASSERT_EQ(plan.updated.size(), 3u);  // two 1m bars, one 1h bar
}

TEST(BarsTest, AnIdNotBeyondTheStoredBarsMaxIsRecomputed) {
  absl::flat_hash_map<BarKey, Bar> current;
  BarPlan first = PlanBars({Event(5, absl::Seconds(10), 10)}, {60}, {});
  current[first.updated[0].key] = first.updated[0];
  // A repeat of id 5, and a late id 4: neither can be told counted or not.
  for (const StoredPrice& e : {Event(5, absl::Seconds(10), 10), Event(4, absl::Seconds(5), 9)}) {
    BarPlan plan = PlanBars({e}, {60}, current);
    EXPECT_TRUE(plan.updated.empty());
    ASSERT_EQ(plan.recompute.size(), 1u);
    EXPECT_EQ(plan.recompute[0], first.updated[0].key);
  }
  // A duplicate inside one batch likewise.
  BarPlan dup = PlanBars({Event(7, absl::Seconds(1), 1), Event(7, absl::Seconds(1), 1)}, {60}, {});
  EXPECT_EQ(dup.recompute.size(), 1u);
  // A newer id is added, even with an earlier timestamp: it becomes the open.
  BarPlan later = PlanBars({Event(6, absl::Seconds(2), 8)}, {60}, current);
  ASSERT_EQ(later.updated.size(), 1u);
  EXPECT_EQ(later.updated[0].open, 8);
  EXPECT_EQ(later.updated[0].close, 10);
  EXPECT_EQ(later.updated[0].price_count, 2);
}

// The stored prices up to an id, as the store's recompute counts them.
std::vector<StoredPrice> UpTo(const std::vector<StoredPrice>& all, int64_t through) {
  std::vector<StoredPrice> out;
  for (const StoredPrice& e : all) {
    if (e.price_point_id <= through) out.push_back(e);
  }
  return out;
}

// A consumer behind the writers: prices 1..100 are stored, events arrive in order, and one is
// delivered twice. Its bar is recomputed through the batch's newest id only, so the events
// that follow are added, not taken for repeats of prices the recompute had already counted.
TEST(BarsTest, ARecomputeCountsNoPriceBeyondTheBatch) {
  std::vector<StoredPrice> all;
  for (int i = 1; i <= 100; ++i) all.push_back(Event(i, absl::Milliseconds(100 * i), 100 + i % 7));
  absl::flat_hash_map<BarKey, Bar> stored;
  auto batch = [&](int from, int to) {
    return std::vector<StoredPrice>(all.begin() + from - 1, all.begin() + to);
  };
  BarPlan first = PlanBars(batch(1, 10), {60}, stored);
  ASSERT_EQ(first.updated.size(), 1u);
  stored[first.updated[0].key] = first.updated[0];
  std::vector<StoredPrice> again = batch(11, 20);
  again.push_back(all[4]);  // id 5 once more
  BarPlan repeat = PlanBars(again, {60}, stored);
  ASSERT_EQ(repeat.recompute.size(), 1u);
  EXPECT_EQ(repeat.recompute_through, std::vector<int64_t>{20});
  stored[repeat.recompute[0]] = Reference(UpTo(all, 20), repeat.recompute[0]);
  BarPlan next = PlanBars(batch(21, 30), {60}, stored);
  EXPECT_TRUE(next.recompute.empty());
  ASSERT_EQ(next.updated.size(), 1u);
  ExpectSame(next.updated[0], Reference(UpTo(all, 30), next.updated[0].key));
}

// Random batches in random order, with repeats: each bar planned in memory, or (standing in for
// the store's recompute) rebuilt from the stored price points up to the planned id, equals the
// definition. The
// prices are all stored before the first event arrives, as mds-api stores before it publishes.
TEST(BarsTest, AnyArrivalOrderGivesTheDefinedBars) {
  std::mt19937 random(7);
  std::vector<StoredPrice> all;
  for (int i = 1; i <= 400; ++i) {
    all.push_back(Event(i, absl::Milliseconds(std::uniform_int_distribution<int>(0, 600000)(random)),
                        100 + std::uniform_int_distribution<int>(0, 1000)(random) / 10.0,
                        i % 3 == 0 ? std::optional<double>() : std::optional<double>(i),
                        i % 2 == 0 ? "AAPL" : "MSFT"));
  }
  std::vector<StoredPrice> arrivals = all;
  for (int i = 0; i < 60; ++i) arrivals.push_back(all[random() % all.size()]);  // repeats
  std::shuffle(arrivals.begin(), arrivals.end(), random);
  const std::vector<int> intervals = {60, 300};
  absl::flat_hash_map<BarKey, Bar> stored;
  for (size_t from = 0; from < arrivals.size(); from += 37) {
    std::vector<StoredPrice> batch(arrivals.begin() + from,
                                      arrivals.begin() + std::min(arrivals.size(), from + 37));
    BarPlan plan = PlanBars(batch, intervals, stored);
    for (Bar& bar : plan.updated) stored[bar.key] = bar;
    ASSERT_EQ(plan.recompute_through.size(), plan.recompute.size());
    for (size_t i = 0; i < plan.recompute.size(); ++i) {
      stored[plan.recompute[i]] = Reference(UpTo(all, plan.recompute_through[i]), plan.recompute[i]);
    }
  }
  int bars = 0;
  for (const auto& [key, bar] : stored) {
    ExpectSame(bar, Reference(all, key));
    ++bars;
  }
  EXPECT_GT(bars, 20);
}

TEST(BarsTest, DeltasInTimeOrderAreMergeableTheOthersAreNot) {
  // AAPL in time order; MSFT's id 5 is earlier than its id 4; GOOG's id 6 comes twice.
  const std::vector<StoredPrice> batch = {
      Event(1, absl::Seconds(1), 10), Event(2, absl::Seconds(2), 11),
      Event(4, absl::Seconds(4), 20, {}, "MSFT"), Event(5, absl::Seconds(3), 21, {}, "MSFT"),
      Event(6, absl::Seconds(1), 30, {}, "GOOG"), Event(6, absl::Seconds(1), 30, {}, "GOOG")};
  BarDeltas deltas = PlanDeltas(batch, {60});
  ASSERT_EQ(deltas.mergeable.size(), 1u);
  EXPECT_EQ(deltas.mergeable[0].key.symbol, "AAPL");
  EXPECT_EQ(deltas.mergeable[0].price_count, 2);
  std::vector<std::string> others;
  for (const BarKey& key : deltas.others) others.push_back(key.symbol);
  std::sort(others.begin(), others.end());
  EXPECT_EQ(others, (std::vector<std::string>{"GOOG", "MSFT"}));
}

// The path the consumer takes: each batch's deltas merged where the stored bar counts none of
// their prices, every other bar planned against the stored one (added or recomputed).
TEST(BarsTest, MergedDeltasGiveTheDefinedBarsInAnyArrivalOrder) {
  std::mt19937 random(11);
  std::vector<StoredPrice> all;
  for (int i = 1; i <= 600; ++i) {
    // Mostly in time order, with a few prices late by up to two minutes.
    absl::Duration at = absl::Milliseconds(i * 1000);
    if (random() % 10 == 0) at -= absl::Milliseconds(random() % 120000);
    all.push_back(Event(i, at, 100 + static_cast<int>(random() % 1000) / 10.0,
                        i % 3 == 0 ? std::optional<double>() : std::optional<double>(i),
                        i % 2 == 0 ? "AAPL" : "MSFT"));
  }
  std::vector<StoredPrice> arrivals = all;
  for (int i = 0; i < 40; ++i) arrivals.push_back(all[random() % all.size()]);  // repeats
  // Blocks swapped pairwise: some batches arrive before the ones they follow.
  for (size_t from = 0; from + 60 <= arrivals.size(); from += 60) {
    std::rotate(arrivals.begin() + from, arrivals.begin() + from + 30, arrivals.begin() + from + 60);
  }
  const std::vector<int> intervals = {60, 300, 3600};
  absl::flat_hash_map<BarKey, Bar> stored;
  int merged = 0, planned = 0;
  for (size_t from = 0; from < arrivals.size(); from += 25) {
    std::vector<StoredPrice> batch(arrivals.begin() + from,
                                   arrivals.begin() + std::min(arrivals.size(), from + 25));
    BarDeltas deltas = PlanDeltas(batch, intervals);
    absl::flat_hash_set<BarKey> rest(deltas.others.begin(), deltas.others.end());
    for (const Bar& delta : deltas.mergeable) {
      auto it = stored.find(delta.key);
      if (it == stored.end()) {
        stored[delta.key] = delta;
      } else if (it->second.max_id < delta.open_id) {
        it->second = MergeBars(it->second, delta);
      } else {
        rest.insert(delta.key);
        continue;
      }
      ++merged;
    }
    BarPlan plan = PlanBars(batch, intervals, stored);
    for (Bar& bar : plan.updated) {
      if (rest.contains(bar.key)) {
        stored[bar.key] = bar;
        ++planned;
      }
    }
    for (size_t i = 0; i < plan.recompute.size(); ++i) {
      if (!rest.contains(plan.recompute[i])) continue;
      stored[plan.recompute[i]] = Reference(UpTo(all, plan.recompute_through[i]), plan.recompute[i]);
      ++planned;
    }
  }
  for (const auto& [key, bar] : stored) ExpectSame(bar, Reference(all, key));
  EXPECT_GT(merged, 40);
  EXPECT_GT(planned, 10);
}

}  // namespace
}  // namespace marketdata
