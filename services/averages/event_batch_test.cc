#include "services/averages/event_batch.h"

#include <algorithm>
#include <map>
#include <random>
#include <tuple>

#include "gtest/gtest.h"
#include "services/common/proto_time.h"

namespace marketdata {
namespace {

// Price history in memory, standing in for price_points.
class FakeStore : public MovingAverageStore {
 public:
  absl::StatusOr<std::vector<Neighbours>> LoadNeighbours(const std::vector<PointRef>& points,
                                                         size_t limit) override {
    ++load_calls;
    if (fail) return absl::UnavailableError("database down");
    std::vector<Neighbours> out;
    for (const PointRef& ref : points) {
      Neighbours n;
      for (const PricePoint& p : history[ref.symbol]) {  // sorted by (timestamp, id)
        const auto key = std::tie(p.timestamp, p.id);
        const auto at = std::tie(ref.timestamp, ref.id);
        if (key < at) n.before.push_back(p);
        if (key > at && n.after.size() < limit) n.after.push_back(p);
      }
      if (n.before.size() > limit) n.before.erase(n.before.begin(), n.before.end() - limit);
      out.push_back(std::move(n));
    }
    return out;
  }
  // Upserts, as the real store does: the last row for a key wins.
  absl::Status SaveAverages(const std::vector<AverageRow>& rows) override {
    for (const AverageRow& r : rows) saved[{r.symbol, r.window, r.price_point_id}] = r.value;
    return absl::OkStatus();
  }
  absl::StatusOr<std::optional<AverageRow>> Latest(const std::string&, int) override {
    return std::nullopt;
  }
  absl::StatusOr<AveragePage> List(const AverageQuery&) override { return AveragePage{}; }
  absl::StatusOr<std::vector<PricePoint>> RecentPrices(const std::string&, int) override {
    return std::vector<PricePoint>{};
  }

  std::map<std::string, std::vector<PricePoint>> history;
  std::map<std::tuple<std::string, int, int64_t>, double> saved;
  int load_calls = 0;
  bool fail = false;
};

v1::PriceEvent Event(const std::string& symbol, int64_t id, double price) {
  v1::PriceEvent e;
  e.set_symbol(symbol);
  e.set_price(price);
  e.set_price_point_id(id);
  e.set_provider("test");
  ToProtoTimestamp(absl::FromUnixSeconds(1700000000 + id), e.mutable_timestamp());
  return e;
}

TEST(EventBatchProcessorTest, RebuildsNewSymbolsFromHistoryInOneQuery) {
  FakeStore store;
  for (int i = 1; i <= 4; ++i) {
    store.history["AAPL"].push_back(
        PricePoint{i, absl::FromUnixSeconds(1700000000 + i), 10.0 * i});
  }
  EventBatchProcessor processor(store, {5});
  auto result = processor.Process({Event("AAPL", 5, 50), Event("MSFT", 6, 1), Event("AAPL", 7, 70)});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(store.load_calls, 1);
  ASSERT_EQ(result->averages.size(), 2u);
  EXPECT_EQ(result->averages[0].value, (10 + 20 + 30 + 40 + 50) / 5.0);
  EXPECT_EQ(result->averages[1].value, (20 + 30 + 40 + 50 + 70) / 5.0);
  // Known symbols are not reloaded.
  ASSERT_TRUE(processor.Process({Event("AAPL", 8, 80)}).ok());
  EXPECT_EQ(store.load_calls, 1);
  processor.Reset();
  ASSERT_TRUE(processor.Process({Event("AAPL", 9, 90)}).ok());
  EXPECT_EQ(store.load_calls, 2);
}

TEST(EventBatchProcessorTest, StoreFailureLeavesTheBatchRetryable) {
  FakeStore store;
  EventBatchProcessor processor(store, {2});
  store.fail = true;
  EXPECT_FALSE(processor.Process({Event("AAPL", 1, 1)}).ok());
  store.fail = false;
  EXPECT_TRUE(processor.Process({Event("AAPL", 1, 1)}).ok());
  EXPECT_EQ(processor.symbols(), 1u);
}

// The definition every stored average must meet, computed the plain way: for each point, the mean
// of the newest N prices up to it in (timestamp, id) order, summed oldest first.
std::map<std::tuple<std::string, int, int64_t>, double> Reference(
    const std::map<std::string, std::vector<PricePoint>>& history, const std::vector<int>& windows) {
  std::map<std::tuple<std::string, int, int64_t>, double> out;
  for (const auto& [symbol, points] : history) {
    for (size_t i = 0; i < points.size(); ++i) {
      for (int w : windows) {
        if (i + 1 < static_cast<size_t>(w)) continue;
        double sum = 0;
        for (size_t j = i + 1 - w; j <= i; ++j) sum += points[j].price;
        out[{symbol, w, points[i].id}] = sum / w;
      }
    }
  }
  return out;
}

// Events in any order, repeated, with restarts that redeliver everything after the last commit:
// the stored averages are exactly the reference, whatever the arrival order. Ids are drawn in a
// different order than timestamps, as concurrent group commits do.
TEST(EventBatchProcessorTest, AveragesDoNotDependOnArrivalOrder) {
  const std::vector<int> windows = {3, 5};
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    std::mt19937 rng(seed);
    FakeStore store;
    std::vector<v1::PriceEvent> events;
    for (const std::string symbol : {"AAA", "BBB", "CCC"}) {
      for (int i = 0; i < 400; ++i) {
        const int64_t id = static_cast<int64_t>(events.size()) + 1;
        // Several points share a timestamp; their order is then the id's.
        const absl::Time ts = absl::FromUnixSeconds(1700000000 + i / 3);
        const double price = 100 + static_cast<double>(rng() % 10007) / 97.0;
        store.history[symbol].push_back(PricePoint{id, ts, price});
        v1::PriceEvent e = Event(symbol, id, price);
        ToProtoTimestamp(ts, e.mutable_timestamp());
        events.push_back(e);
      }
      auto& h = store.history[symbol];
      std::sort(h.begin(), h.end(), [](const PricePoint& a, const PricePoint& b) {
        return std::tie(a.timestamp, a.id) < std::tie(b.timestamp, b.id);
      });
    }
    // Mostly near their place, some far behind (late by hundreds of points), some twice.
    std::vector<std::pair<double, v1::PriceEvent>> keyed;
    for (size_t i = 0; i < events.size(); ++i) {
      double at = static_cast<double>(i) + static_cast<double>(rng() % 40);
      if (rng() % 20 == 0) at += 300 + rng() % 600;
      keyed.emplace_back(at, events[i]);
      if (rng() % 25 == 0) keyed.emplace_back(at + rng() % 200, events[i]);
    }
    std::stable_sort(keyed.begin(), keyed.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    auto processor = std::make_unique<EventBatchProcessor>(store, windows);
    size_t committed = 0, next = 0;
    while (next < keyed.size()) {
      const size_t size = 1 + rng() % 50;
      std::vector<v1::PriceEvent> batch;
      for (size_t i = next; i < std::min(keyed.size(), next + size); ++i) {
        batch.push_back(keyed[i].second);
      }
      auto result = processor->Process(batch);
      ASSERT_TRUE(result.ok()) << result.status();
      ASSERT_TRUE(store.SaveAverages(result->averages).ok());
      next += batch.size();
      if (rng() % 4 != 0) committed = next;
      if (rng() % 10 == 0) {  // a crash: a new process, everything after the commit again
        processor = std::make_unique<EventBatchProcessor>(store, windows);
        next = committed;
      }
    }
    EXPECT_EQ(store.saved, Reference(store.history, windows)) << "seed " << seed;
  }
}

}  // namespace
}  // namespace marketdata
