// PostgresMovingAverageStore against a real PostgreSQL: new rows, rewritten rows (redelivered or
// late events), and large batches split over several sessions.
#include <map>
#include <tuple>

#include "gtest/gtest.h"
#include "services/storage/moving_average_store.h"
#include "soci/soci.h"
#include "tests/support/test_env.h"

namespace marketdata {
namespace {

using ::marketdata::testing::MustAcquire;
using ::marketdata::testing::ScratchDatabase;
using Key = std::tuple<std::string, int, int64_t>;

AverageRow Row(const std::string& symbol, int window, int64_t id, double value) {
  return AverageRow{symbol, window, value, absl::FromUnixSeconds(1767225600 + id), id};
}

std::map<Key, double> Stored(Database& db) {
  std::map<Key, double> out;
  auto lease = MustAcquire(db);
  soci::rowset<soci::row> rows =
      (lease->prepare << "SELECT symbol, window_size, price_point_id, value FROM moving_averages");
  for (const soci::row& r : rows) {
    out[{r.get<std::string>(0), r.get<int>(1), r.get<long long>(2)}] = r.get<double>(3);
  }
  return out;
}

TEST(MovingAverageStoreTest, NewRowsAreStoredAndServed) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated(2);
  PostgresMovingAverageStore store(*db);
  ASSERT_TRUE(store.SaveAverages({Row("AAPL", 5, 1, 10.5), Row("AAPL", 5, 2, 11.25)}).ok());
  auto latest = store.Latest("AAPL", 5);
  ASSERT_TRUE(latest.ok()) << latest.status();
  ASSERT_TRUE(latest->has_value());
  EXPECT_EQ((*latest)->price_point_id, 2);
  EXPECT_EQ((*latest)->value, 11.25);
}

TEST(MovingAverageStoreTest, ABatchMeetingStoredKeysRewritesThemAndAddsTheRest) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated(2);
  PostgresMovingAverageStore store(*db);
  ASSERT_TRUE(store.SaveAverages({Row("MSFT", 5, 1, 1), Row("MSFT", 5, 2, 2)}).ok());
  // A late event changed the average at point 2; point 3 is new; one key twice: the last wins.
  absl::Status saved = store.SaveAverages(
      {Row("MSFT", 5, 2, 2.5), Row("MSFT", 5, 3, 3), Row("MSFT", 5, 3, 3.5)});
  ASSERT_TRUE(saved.ok()) << saved;
  std::map<Key, double> want = {
      {{"MSFT", 5, 1}, 1}, {{"MSFT", 5, 2}, 2.5}, {{"MSFT", 5, 3}, 3.5}};
  EXPECT_EQ(Stored(*db), want);
}

TEST(MovingAverageStoreTest, LargeBatchesSplitOverSessionsLoseAndDuplicateNothing) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated(4);
  PostgresMovingAverageStore store(*db, 3);
  std::vector<AverageRow> rows;
  std::map<Key, double> want;
  for (int64_t id = 1; id <= 6000; ++id) {
    const std::string symbol = "S" + std::to_string(id % 37);
    rows.push_back(Row(symbol, 20, id, id * 0.5));
    want[{symbol, 20, id}] = id * 0.5;
  }
  ASSERT_TRUE(store.SaveAverages(rows).ok());
  EXPECT_EQ(Stored(*db), want);
  // Saving again after a partial failure: part of the keys exist, all end with the new values.
  for (AverageRow& r : rows) {
    r.value += 1;
    want[{r.symbol, r.window, r.price_point_id}] = r.value;
  }
  rows.push_back(Row("NEW", 20, 1, 7));
  want[{"NEW", 20, 1}] = 7;
  ASSERT_TRUE(store.SaveAverages(rows).ok());
  EXPECT_EQ(Stored(*db), want);
}

// One index serves every read: the latest average, a page of history and the snapshot walk the
// key backwards, without a sort.
TEST(MovingAverageStoreTest, OneKeyServesEveryRead) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated(2);
  std::vector<AverageRow> rows;
  for (int64_t id = 1; id <= 2000; ++id) rows.push_back(Row(id % 2 ? "AAPL" : "MSFT", 5, id, 1));
  ASSERT_TRUE(PostgresMovingAverageStore(*db).SaveAverages(rows).ok());
  auto lease = MustAcquire(*db);
  *lease << "ANALYZE moving_averages";
  // A table this small is read whole anyway: ask whether the index can give the order. Each
  // partition's share of the key gives it, and the partitions are appended newest first.
  *lease << "SET enable_seqscan = off";
  int indexes = 0;
  *lease << "SELECT count(*) FROM pg_indexes WHERE tablename = 'moving_averages_history'",
      soci::into(indexes);
  EXPECT_EQ(indexes, 1);
  for (const std::string query : {
           "SELECT value FROM moving_averages WHERE symbol = 'AAPL' AND window_size = 5 "
           "ORDER BY ts DESC, price_point_id DESC LIMIT 1",
           "SELECT value FROM moving_averages WHERE symbol = 'AAPL' AND window_size = 5 "
           "AND (ts, price_point_id) < (now(), 1500) ORDER BY ts DESC, price_point_id DESC LIMIT 50",
           "SELECT DISTINCT ON (symbol, window_size) value FROM moving_averages "
           "WHERE symbol = ANY(ARRAY['AAPL', 'MSFT']) "
           "ORDER BY symbol DESC, window_size DESC, ts DESC, price_point_id DESC"}) {
    std::string plan;
    soci::rowset<std::string> lines = (lease->prepare << "EXPLAIN " + query);
    for (const std::string& line : lines) plan += line + "\n";
    EXPECT_NE(plan.find("Index Scan Backward using moving_averages_history_pkey"),
              std::string::npos)
        << query << "\n" << plan;
    EXPECT_EQ(plan.find("Sort  ("), std::string::npos) << query << "\n" << plan;
  }
}

}  // namespace
}  // namespace marketdata
