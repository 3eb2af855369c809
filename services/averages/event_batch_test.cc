#include "services/averages/event_batch.h"

#include <algorithm>
#include <map>
#include <random>
#include <tuple>

#include "gtest/gtest.h"
#include "services/domain/test_prices.h"

namespace marketdata {
namespace {

// Price history in memory, standing in for price_points, and the averages saved.
class FakeStore : public StoredPrices {
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
  absl::Status SaveAverages(const std::vector<AverageRow>& rows) {
    for (const AverageRow& r : rows) saved[{r.symbol, r.window, r.price_point_id}] = r.value;
    return absl::OkStatus();
  }

  std::map<std::string, std::vector<PricePoint>> history;
  std::map<std::tuple<std::string, int, int64_t>, double> saved;
  int load_calls = 0;
  bool fail = false;
};

StoredPrice Event(const std::string& symbol, int64_t id, double price) {
  return TestPrice(symbol, id, price, absl::FromUnixSeconds(1700000000 + id));
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
// different order than timestamps, as concurrent group commits do. `max_symbols` below the
// number of symbols makes windows be dropped and rebuilt all along.
void ExpectAveragesIndependentOfArrivalOrder(size_t max_symbols, uint32_t seeds) {
  const std::vector<int> windows = {3, 5};
  for (uint32_t seed = 1; seed <= seeds; ++seed) {
    std::mt19937 rng(seed);
    FakeStore store;
    std::vector<StoredPrice> events;
    for (const std::string symbol : {"AAA", "BBB", "CCC"}) {
      for (int i = 0; i < 400; ++i) {
        const int64_t id = static_cast<int64_t>(events.size()) + 1;
        // Several points share a timestamp; their order is then the id's.
        const absl::Time ts = absl::FromUnixSeconds(1700000000 + i / 3);
        const double price = 100 + static_cast<double>(rng() % 10007) / 97.0;
        store.history[symbol].push_back(PricePoint{id, ts, price});
        StoredPrice e = Event(symbol, id, price);
        e.quote.timestamp = ts;
        events.push_back(e);
      }
      auto& h = store.history[symbol];
      std::sort(h.begin(), h.end(), [](const PricePoint& a, const PricePoint& b) {
        return std::tie(a.timestamp, a.id) < std::tie(b.timestamp, b.id);
      });
    }
    // Mostly near their place, some far behind (late by hundreds of points), some twice.
    std::vector<std::pair<double, StoredPrice>> keyed;
    for (size_t i = 0; i < events.size(); ++i) {
      double at = static_cast<double>(i) + static_cast<double>(rng() % 40);
      if (rng() % 20 == 0) at += 300 + rng() % 600;
      keyed.emplace_back(at, events[i]);
      if (rng() % 25 == 0) keyed.emplace_back(at + rng() % 200, events[i]);
    }
    std::stable_sort(keyed.begin(), keyed.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    auto processor = std::make_unique<EventBatchProcessor>(store, windows, max_symbols);
    size_t committed = 0, next = 0;
    while (next < keyed.size()) {
      const size_t size = 1 + rng() % 50;
      std::vector<StoredPrice> batch;
      for (size_t i = next; i < std::min(keyed.size(), next + size); ++i) {
        batch.push_back(keyed[i].second);
      }
      auto result = processor->Process(batch);
      ASSERT_TRUE(result.ok()) << result.status();
      ASSERT_LE(processor->symbols(), max_symbols);
      ASSERT_TRUE(store.SaveAverages(result->averages).ok());
      processor->Written(result->averages);
      next += batch.size();
      if (rng() % 4 != 0) committed = next;
      if (rng() % 10 == 0) {  // a crash: a new process, everything after the commit again
        processor = std::make_unique<EventBatchProcessor>(store, windows, max_symbols);
        next = committed;
      }
    }
    EXPECT_EQ(store.saved, Reference(store.history, windows))
        << "seed " << seed << ", at most " << max_symbols << " windows";
  }
}

TEST(EventBatchProcessorTest, AveragesDoNotDependOnArrivalOrder) {
  ExpectAveragesIndependentOfArrivalOrder(EventBatchProcessor::kDefaultMaxSymbols, 40);
}

TEST(EventBatchProcessorTest, AveragesDoNotDependOnArrivalOrderWhileWindowsAreDropped) {
  ExpectAveragesIndependentOfArrivalOrder(1, 10);
  ExpectAveragesIndependentOfArrivalOrder(2, 10);
}

// Batches of one symbol each; every point of `history` is stored before its event arrives.
std::vector<std::vector<StoredPrice>> OneSymbolBatches(
    std::map<std::string, std::vector<PricePoint>>& history,
    const std::vector<std::string>& symbols, int per_batch) {
  std::map<std::string, int64_t> next;
  std::vector<std::vector<StoredPrice>> batches;
  int64_t id = 0;
  for (const std::string& symbol : symbols) {
    std::vector<StoredPrice> batch;
    for (int i = 0; i < per_batch; ++i) {
      ++id;
      const double price = 10.0 * static_cast<double>(id) + static_cast<double>(symbol[0]);
      history[symbol].push_back(PricePoint{id, absl::FromUnixSeconds(1700000000 + id), price});
      batch.push_back(Event(symbol, id, price));
    }
    batches.push_back(std::move(batch));
  }
  return batches;
}

TEST(EventBatchProcessorTest, KeepsAtMostMaxSymbolsAndRebuildsAnEvictedSymbol) {
  FakeStore store;
  const std::vector<int> windows = {3};
  // Each symbol's history is stored up front, as the outbox publishes only stored prices.
  auto batches = OneSymbolBatches(store.history, {"A", "B", "C", "A"}, 4);
  EventBatchProcessor processor(store, windows, 2);
  std::vector<int> loads;
  for (const auto& batch : batches) {
    auto result = processor.Process(batch);
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_TRUE(store.SaveAverages(result->averages).ok());
    processor.Written(result->averages);
    EXPECT_LE(processor.symbols(), 2u);
    loads.push_back(store.load_calls);
  }
  // A, B and C are each loaded once; C evicts A (the least recently used), so A is loaded again.
  EXPECT_EQ(loads, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(store.saved, Reference(store.history, windows));

  // With room for every symbol, A's second batch needs no load.
  FakeStore roomy;
  auto same = OneSymbolBatches(roomy.history, {"A", "B", "C", "A"}, 4);
  EventBatchProcessor keeps_all(roomy, windows, 3);
  for (const auto& batch : same) {
    auto result = keeps_all.Process(batch);
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_TRUE(roomy.SaveAverages(result->averages).ok());
    keeps_all.Written(result->averages);
  }
  EXPECT_EQ(roomy.load_calls, 3);
  EXPECT_EQ(roomy.saved, store.saved);
}

TEST(EventBatchProcessorTest, EvictsTheLeastRecentlyUsedSymbolNotTheOldest) {
  FakeStore store;
  auto batches = OneSymbolBatches(store.history, {"A", "B", "A", "C", "A", "B"}, 1);
  EventBatchProcessor processor(store, {2}, 2);
  std::vector<int> loads;
  for (const auto& batch : batches) {
    auto result = processor.Process(batch);
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_TRUE(store.SaveAverages(result->averages).ok());
    processor.Written(result->averages);
    loads.push_back(store.load_calls);
  }
  // A is used again before C arrives, so C evicts B: A stays, B is reloaded.
  EXPECT_EQ(loads, (std::vector<int>{1, 2, 2, 3, 3, 4}));
  EXPECT_EQ(store.saved, Reference(store.history, {2}));
}

// One batch may hold more symbols than are kept: all are processed, and the surplus is dropped
// afterwards, keeping the most recently used.
TEST(EventBatchProcessorTest, ABatchWithMoreSymbolsThanKeptIsStillProcessed) {
  FakeStore store;
  auto batches = OneSymbolBatches(store.history, {"A", "B", "C", "D"}, 3);
  std::vector<StoredPrice> all;
  for (const auto& b : batches) all.insert(all.end(), b.begin(), b.end());
  EventBatchProcessor processor(store, {3}, 2);
  auto result = processor.Process(all);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(store.SaveAverages(result->averages).ok());
  processor.Written(result->averages);
  EXPECT_EQ(processor.symbols(), 2u);
  EXPECT_EQ(store.saved, Reference(store.history, {3}));
  const int loads = store.load_calls;
  ASSERT_TRUE(processor.Process({Event("D", 100, 1)}).ok());  // D was used last: kept
  EXPECT_EQ(store.load_calls, loads);
  ASSERT_TRUE(processor.Process({Event("A", 101, 1)}).ok());  // A was dropped: rebuilt
  EXPECT_EQ(store.load_calls, loads + 1);
}

}  // namespace
}  // namespace marketdata

namespace marketdata {
namespace {

// A consumer far behind the writers: everything is stored before the first event arrives, so
// each window's seed is cut short and events keep running past it. Each symbol then costs one
// query per window's worth of events, not one per event, and the averages stay exact.
TEST(EventBatchProcessorTest, AConsumerFarBehindQueriesOncePerWindowNotPerEvent) {
  FakeStore store;
  const std::vector<int> windows = {5, 20};
  std::vector<StoredPrice> batch;
  for (int64_t id = 1; id <= 2000; ++id) {
    const std::string symbol = id % 2 == 0 ? "AAPL" : "MSFT";
    const double price = static_cast<double>((id * 7919) % 1000) / 10.0;
    store.history[symbol].push_back(PricePoint{id, absl::FromUnixSeconds(1700000000 + id), price});
    batch.push_back(Event(symbol, id, price));
  }
  EventBatchProcessor processor(store, windows);
  const size_t capacity = SymbolWindow(std::string(), windows).capacity();
  int from_storage = 0;
  size_t rows = 0;
  for (size_t at = 0; at < batch.size(); at += 25) {
    std::vector<StoredPrice> part(batch.begin() + static_cast<std::ptrdiff_t>(at),
                                     batch.begin() + static_cast<std::ptrdiff_t>(at + 25));
    absl::StatusOr<BatchResult> result = processor.Process(part);
    ASSERT_TRUE(result.ok());
    ASSERT_TRUE(store.SaveAverages(result->averages).ok());
    processor.Written(result->averages);
    from_storage += result->repaired_events;
    rows += result->averages.size();
  }
  // Each event's stored neighbours ahead of it were averaged already, by the events before it:
  // what is written is about one row per event and window (9,049 rows when every recomputed
  // neighbour was written again).
  EXPECT_LE(rows, 2000u * windows.size() * 5 / 4) << rows;
  EXPECT_EQ(store.saved, Reference(store.history, windows));
  // 1,000 events per symbol; after each event read from storage, the window's room ahead
  // (capacity - max(windows) + 1 points) is placed in memory.
  const int per_symbol = static_cast<int>(1000 / (capacity - 20 + 1)) + 1;
  EXPECT_LE(from_storage, 2 * per_symbol) << capacity;
  EXPECT_LE(store.load_calls, 2 * per_symbol + 1);
}

}  // namespace
}  // namespace marketdata
