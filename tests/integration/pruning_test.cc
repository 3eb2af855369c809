// Every read of a time-partitioned table touches only the partitions it needs: shown with
// EXPLAIN ANALYZE on a real PostgreSQL, by the partitions a plan actually scanned (pruned ones
// are not in the plan; skipped ones say "never executed"). The statements have the shapes of the
// stores' own: history pages, averages pages, the neighbours of a late price, a bar recomputed,
// the snapshot and the outbox relay.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/lifecycle/partition_plan.h"
#include "services/storage/price_store.h"
#include "soci/soci.h"
#include "tests/support/test_env.h"

namespace marketdata {
namespace {

using ::marketdata::testing::MustAcquire;
using ::marketdata::testing::ScratchDatabase;

std::string Micros(absl::Time t) { return absl::StrCat(absl::ToUnixMicros(t)); }
std::string At(absl::Time t) {
  return absl::StrCat("timestamptz 'epoch' + ", Micros(t), " * interval '1 microsecond'");
}

struct Scanned {
  std::vector<std::string> partitions;  // scanned at least once
  std::string plan;
};

// The partitions of `table` the statement scanned.
Scanned Explain(Database& db, const std::string& table, const std::string& sql) {
  auto lease = MustAcquire(db);
  // These tables are tiny: plan as for large ones, where only an index gives the order.
  *lease << "SET enable_seqscan = off";
  *lease << "SET enable_sort = off";
  Scanned out;
  soci::rowset<std::string> lines =
      (lease->prepare << "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + sql);
  for (const std::string& line : lines) {
    out.plan += line + "\n";
    // "Index Scan Backward using price_points_p..._pkey on price_points_p20261205_000000 x"
    const size_t on = line.find(" on " + table + "_");
    if (on == std::string::npos || absl::StrContains(line, "never executed")) continue;
    std::vector<std::string> words = absl::StrSplit(line.substr(on + 4), ' ');
    out.partitions.push_back(words[0]);
  }
  return out;
}

class PruningTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = scratch_.ConnectMigrated(2);
    now_ = absl::Now();
    // A price an hour ago, three days ago and six days ago for two symbols; the first is still
    // in the outbox.
    std::vector<Quote> quotes;
    for (const char* symbol : {"AAA", "BBB"}) {
      for (absl::Duration age : {absl::Hours(24 * 6), absl::Hours(24 * 3), absl::Hours(1)}) {
        quotes.push_back(Quote{symbol, 10, now_ - age, "test", "{}"});
      }
    }
    absl::StatusOr<std::vector<StoredPrice>> saved = SavePriceBatch(*db_, quotes);
    ASSERT_TRUE(saved.ok()) << saved.status();
    stored_ = *saved;
    auto lease = MustAcquire(*db_);
    *lease << "INSERT INTO moving_averages (symbol, window_size, value, ts, price_point_id) "
              "SELECT symbol, 5, price, ts, id FROM price_points";
    *lease << "DELETE FROM price_event_outbox WHERE price_point_id <> " << stored_[2].price_point_id;
    *lease << "ANALYZE";
  }

  std::string Day(absl::Duration age) {
    return absl::StrCat("price_points_p",
                        absl::FormatTime("%Y%m%d_000000", now_ - age, absl::UTCTimeZone()));
  }

  ScratchDatabase scratch_;
  std::unique_ptr<Database> db_;
  absl::Time now_;
  std::vector<StoredPrice> stored_;
};

TEST_F(PruningTest, HistoryBetweenTwoTimesReadsTheirPartitionsOnly) {
  const Scanned s = Explain(
      *db_, "price_points",
      absl::StrCat("SELECT id FROM price_points WHERE symbol = 'AAA' AND ts >= ",
                   At(now_ - absl::Hours(24 * 3) - absl::Minutes(1)), " AND ts < ",
                   At(now_ - absl::Hours(24 * 3) + absl::Minutes(1)),
                   " ORDER BY ts DESC, id DESC LIMIT 101"));
  ASSERT_EQ(s.partitions.size(), 1u) << s.plan;
  EXPECT_EQ(s.partitions[0], Day(absl::Hours(24 * 3))) << s.plan;
}

TEST_F(PruningTest, ALaterPageSkipsThePartitionsAfterItsCursor) {
  // The cursor: the price three days back. Everything after it is pruned before the scan.
  const StoredPrice& cursor = stored_[1];
  const Scanned s = Explain(
      *db_, "price_points",
      absl::StrCat("SELECT id FROM price_points WHERE symbol = 'AAA' AND ts <= ",
                   At(cursor.quote.timestamp), " AND (ts, id) < (", At(cursor.quote.timestamp),
                   ", ", cursor.price_point_id, ") ORDER BY ts DESC, id DESC LIMIT 1"));
  // Newest first from the cursor's day: the six-day-old price ends the page.
  for (const std::string& p : s.partitions) {
    EXPECT_LE(p, Day(absl::Hours(24 * 3))) << s.plan;
  }
  EXPECT_LE(s.partitions.size(), 4u) << s.plan;
  const Scanned averages = Explain(
      *db_, "moving_averages",
      absl::StrCat("SELECT value FROM moving_averages WHERE symbol = 'AAA' AND window_size = 5 "
                   "AND ts <= ", At(cursor.quote.timestamp), " AND (ts, price_point_id) < (",
                   At(cursor.quote.timestamp), ", ", cursor.price_point_id,
                   ") ORDER BY ts DESC, price_point_id DESC LIMIT 1"));
  EXPECT_LE(averages.partitions.size(), 4u) << averages.plan;
  for (const std::string& p : averages.partitions) {
    EXPECT_LE(p.substr(std::string("moving_averages_").size()),
              Day(absl::Hours(24 * 3)).substr(std::string("price_points_").size()))
        << averages.plan;
  }
}

TEST_F(PruningTest, TheLatestPriceAndTheSnapshotStopAtTheNewestPartitionHoldingOne) {
  const Scanned s = Explain(
      *db_, "price_points",
      "SELECT p.id FROM unnest(ARRAY['AAA', 'BBB']) AS s(symbol) CROSS JOIN LATERAL ("
      "SELECT * FROM price_points WHERE symbol = s.symbol ORDER BY ts DESC, id DESC LIMIT 1) p");
  // The partitions ahead (empty) and today's; never the older days or the history.
  for (const std::string& p : s.partitions) {
    EXPECT_GE(p, Day(absl::Hours(1))) << s.plan;
  }
  EXPECT_FALSE(s.partitions.empty()) << s.plan;
}

TEST_F(PruningTest, ALatePricesNeighboursAndABarReadOnlyTheirDays) {
  const StoredPrice& late = stored_[1];  // three days back
  const Scanned before = Explain(
      *db_, "price_points",
      absl::StrCat("SELECT id FROM price_points pp WHERE pp.symbol = 'AAA' AND pp.ts <= ",
                   At(late.quote.timestamp), " AND (pp.ts, pp.id) < (", At(late.quote.timestamp),
                   ", ", late.price_point_id, ") ORDER BY pp.ts DESC, pp.id DESC LIMIT 4"));
  for (const std::string& p : before.partitions) {
    EXPECT_LE(p, Day(absl::Hours(24 * 3))) << before.plan;
  }
  // A one-minute bar around the late price, as the bar store recomputes it (keys in an array).
  const absl::Time bucket = PartitionStart(late.quote.timestamp, absl::Minutes(1));
  const Scanned bar = Explain(
      *db_, "price_points",
      absl::StrCat(
          "SELECT k.symbol, count(*) FROM unnest(ARRAY['AAA'], ARRAY[60], ARRAY[",
          Micros(bucket), "::bigint], ARRAY[", late.price_point_id,
          "::bigint]) AS k(symbol, secs, start_us, through) "
          "JOIN price_points p ON p.symbol = k.symbol AND p.id <= k.through "
          "AND p.ts >= timestamptz 'epoch' + k.start_us * interval '1 microsecond' "
          "AND p.ts < timestamptz 'epoch' + (k.start_us + k.secs * CAST(1000000 AS BIGINT)) "
          "* interval '1 microsecond' GROUP BY k.symbol"));
  ASSERT_EQ(bar.partitions.size(), 1u) << bar.plan;
  EXPECT_EQ(bar.partitions[0], Day(absl::Hours(24 * 3))) << bar.plan;
}

TEST_F(PruningTest, ABarOfOneIntervalIsReadFromItsWeekAndItsInterval) {
  auto lease = MustAcquire(*db_);
  const absl::Time bucket = PartitionStart(now_ - absl::Hours(24 * 3), absl::Minutes(1));
  *lease << absl::StrCat("INSERT INTO bars VALUES ('AAA', 60, ", At(bucket), ", 1, 1, 1, 1, 1, "
                         "NULL, ", At(bucket), ", 1, ", At(bucket), ", 1, 1)");
  *lease << "ANALYZE bars";
  const Scanned s = Explain(
      *db_, "bars",
      absl::StrCat("SELECT close FROM bars WHERE symbol = 'AAA' AND interval_seconds = 60 AND "
                   "bucket_start >= ", At(bucket), " AND bucket_start < ",
                   At(bucket + absl::Minutes(1))));
  ASSERT_EQ(s.partitions.size(), 1u) << s.plan;
  EXPECT_TRUE(absl::EndsWith(s.partitions[0], "_1m")) << s.plan;
}

TEST_F(PruningTest, TheOutboxRelayFindsEachPriceInItsPartition) {
  // The relay's join: the outbox row names the price by (symbol, ts, id).
  const Scanned s = Explain(
      *db_, "price_points",
      "SELECT p.id FROM price_event_outbox o JOIN price_points p "
      "ON p.symbol = o.symbol AND p.ts = o.price_ts AND p.id = o.price_point_id");
  ASSERT_EQ(s.partitions.size(), 1u) << s.plan;
  EXPECT_EQ(s.partitions[0], Day(absl::Hours(1))) << s.plan;
}

}  // namespace
}  // namespace marketdata
