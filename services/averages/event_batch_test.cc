#include "services/averages/event_batch.h"

#include <map>

#include "gtest/gtest.h"
#include "services/common/proto_time.h"

namespace marketdata {
namespace {

// Price history in memory, standing in for price_points.
class FakeStore : public MovingAverageStore {
 public:
  absl::StatusOr<std::vector<std::vector<PricePoint>>> LoadWindows(
      const std::vector<WindowStart>& starts, size_t limit) override {
    ++load_calls;
    if (fail) return absl::UnavailableError("database down");
    std::vector<std::vector<PricePoint>> out;
    for (const WindowStart& s : starts) {
      std::vector<PricePoint> before;
      for (const PricePoint& p : history[s.symbol]) {
        if (std::tie(p.timestamp, p.id) < std::tie(s.before_timestamp, s.before_id)) {
          before.push_back(p);
        }
      }
      if (before.size() > limit) before.erase(before.begin(), before.end() - limit);
      out.push_back(before);
    }
    return out;
  }
  absl::Status SaveAverages(const std::vector<AverageRow>&) override { return absl::OkStatus(); }
  absl::StatusOr<std::optional<AverageRow>> Latest(const std::string&, int) override {
    return std::nullopt;
  }
  absl::StatusOr<AveragePage> List(const AverageQuery&) override { return AveragePage{}; }
  absl::StatusOr<std::vector<PricePoint>> RecentPrices(const std::string&, int) override {
    return std::vector<PricePoint>{};
  }

  std::map<std::string, std::vector<PricePoint>> history;
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

}  // namespace
}  // namespace marketdata
