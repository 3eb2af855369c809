// Time partitions against a real PostgreSQL: the upgrade of a database that holds replies, the
// partitions made ahead, and removal that never makes a writer wait.
#include <atomic>
#include <cstdlib>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/lifecycle/lifecycle_settings.h"
#include "services/lifecycle/partition_maintainer.h"
#include "services/storage/migrations.h"
#include "services/storage/partition_store.h"
#include "services/storage/price_store.h"
#include "soci/soci.h"
#include "tests/support/test_env.h"

namespace marketdata {
namespace {

using ::marketdata::testing::MustAcquire;
using ::marketdata::testing::ScratchDatabase;

Quote MakeQuote(const std::string& symbol, double price) {
  return Quote{symbol, price, absl::Now() - absl::Hours(72), "test",
               R"({"symbol":")" + symbol + R"(","price":1})"};
}

long long Scalar(Database& db, const std::string& sql) {
  auto lease = MustAcquire(db);
  long long n = 0;
  *lease << sql, soci::into(n);
  return n;
}

MaintainedTable Minutes(int retention_minutes) {
  PartitionPolicy p;
  p.length = absl::Minutes(1);
  p.ahead = 3;
  p.retention = absl::Minutes(retention_minutes);
  return {"raw_market_data", p};
}

std::vector<Migration> Upto(int version) {
  std::vector<Migration> out;
  for (const Migration& m : EmbeddedMigrations()) {
    if (m.version <= version) out.push_back(m);
  }
  return out;
}

TEST(PartitionsTest, ADatabaseWithRepliesIsPartitionedWithoutLosingOne) {
  ScratchDatabase scratch;
  auto db = Database::Connect(scratch.url(), 3, absl::Seconds(10));
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE(ApplyMigrations(**db, Upto(7)).ok());
  {
    auto lease = MustAcquire(**db);
    // As stored before: some stamped with quote times days back, one a day ahead.
    *lease << "INSERT INTO raw_market_data (symbol, provider, response, fetched_at) "
              "SELECT 'OLD', 'test', '{}', now() - g * interval '1 hour' "
              "FROM generate_series(0, 199) g";
    *lease << "INSERT INTO raw_market_data (symbol, provider, response, fetched_at) "
              "VALUES ('OLD', 'test', '{}', now() + interval '20 hours')";
  }
  const long long max_id = Scalar(**db, "SELECT max(id) FROM raw_market_data");
  ASSERT_TRUE(ApplyMigrations(**db, EmbeddedMigrations()).ok());
  EXPECT_EQ(Scalar(**db, "SELECT count(*) FROM raw_market_data WHERE symbol = 'OLD'"), 201);
  EXPECT_EQ(Scalar(**db, "SELECT count(*) FROM raw_market_data_legacy"), 201);

  PostgresPartitionStore partitions(**db);
  absl::StatusOr<std::vector<TimePartition>> listed = partitions.List("raw_market_data");
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name, "raw_market_data_legacy");
  EXPECT_FALSE((*listed)[0].lower.has_value()) << "from MINVALUE";
  EXPECT_GT((*listed)[0].upper, absl::Now() + absl::Hours(19));

  std::vector<MaintainedTable> tables = MaintainedTables(LifecycleConfig{});
  tables[0] = Minutes(2);
  PartitionMaintainer maintainer(partitions, tables);
  ASSERT_TRUE(maintainer.EnsureReady(absl::Seconds(30)).ok());
  EXPECT_GE(maintainer.stats().tables.at("raw_market_data").ahead, 3);
  // The old table stays until everything in it is past the retention.
  listed = partitions.List("raw_market_data");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ((*listed)[0].name, "raw_market_data_legacy");

  // New replies go on with the same sequence, stamped when they are stored.
  PostgresPriceStore store(**db);
  absl::StatusOr<StoredPrice> saved = store.SavePrice(MakeQuote("NEW", 10));
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_GT(saved->raw_response_id, max_id);
  EXPECT_EQ(Scalar(**db, absl::StrCat("SELECT count(*) FROM raw_market_data WHERE id = ",
                                      saved->raw_response_id,
                                      " AND fetched_at > now() - interval '1 minute'")),
            1);
}

// A database from before prices were partitioned, holding prices and averages, is upgraded
// while a writer goes on: the old tables become the partitions of everything before a cutover
// two days ahead, prepared beforehand (constraint validated, key built concurrently), so the
// migration's own transaction only renames and attaches. No write fails; none is lost.
TEST(PartitionsTest, PricesArePartitionedOnlineWhileAWriterGoesOn) {
  ScratchDatabase scratch;
  auto db = Database::Connect(scratch.url(), 4, absl::Seconds(10));
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE(ApplyMigrations(**db, Upto(11)).ok());
  // MDS_TEST_UPGRADE_PRICES=10000000 rehearses a production-sized upgrade (minutes).
  const char* env_rows = std::getenv("MDS_TEST_UPGRADE_PRICES");
  const int kRows = env_rows != nullptr ? std::atoi(env_rows) : 200000;
  {
    auto lease = MustAcquire(**db);
    *lease << "SET statement_timeout = 0";
    *lease << "INSERT INTO price_points (symbol, price, ts, provider) "
              "SELECT 'S' || (g % 100), g, now() - g * interval '1 second', 'test' "
              "FROM generate_series(1, " << kRows << ") g";
    *lease << "INSERT INTO moving_averages (symbol, window_size, value, ts, price_point_id) "
              "SELECT symbol, 5, price, ts, id FROM price_points";
    // A symbol's prices are 100 s apart: a one-minute bar each.
    *lease << "INSERT INTO bars SELECT symbol, 60, date_trunc('minute', ts), price, price, price, "
              "price, 1, NULL, ts, id, ts, id, id FROM price_points";
  }
  const long long max_id = Scalar(**db, "SELECT max(id) FROM price_points");
  PostgresPartitionStore partitions(**db);
  {
    // Raw replies are partitioned already (0008), as mds-api keeps them.
    PartitionMaintainer raw(partitions, {MaintainedTables(LifecycleConfig{})[0]});
    ASSERT_TRUE(raw.EnsureReady(absl::Seconds(30)).ok());
  }

  // The writer: prices an hour old, one batch after another, until the upgrade is done.
  std::atomic<bool> upgraded{false};
  std::atomic<int> written{0}, failed{0};
  absl::Duration slowest;
  std::thread writer([&] {
    int n = 0;
    while (!upgraded.load()) {
      Quote q = MakeQuote("W", ++n);
      q.timestamp = absl::Now() - absl::Hours(1);
      const absl::Time start = absl::Now();
      absl::StatusOr<std::vector<StoredPrice>> saved = SavePriceBatch(**db, {q});
      slowest = std::max(slowest, absl::Now() - start);
      (saved.ok() ? written : failed).fetch_add(1);
    }
  });
  absl::SleepFor(absl::Milliseconds(100));
  absl::StatusOr<MigrationReport> report =
      ApplyMigrations(**db, EmbeddedMigrations(), EmbeddedOnlineSteps(), MigrationOptions());
  // A few more writes after the swap.
  const int before_end = written.load();
  while (written.load() < before_end + 20 && failed.load() == 0) absl::SleepFor(absl::Milliseconds(5));
  upgraded = true;
  writer.join();
  ASSERT_TRUE(report.ok()) << report.status();
  // 0012 and 0013, and every migration after them.
  EXPECT_EQ(report->applied, static_cast<int>(EmbeddedMigrations().size()) - 11);
  EXPECT_EQ(report->prepared, 3)
      << "price_points: constraint, key and old index; moving_averages and bars: constraint";
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(written.load(), 20);
  std::printf("upgrade of %d prices: preparation %s, longest migration transaction %s (%d lock "
              "retries), slowest write %s, %d writes, %d failed\n",
              kRows, absl::FormatDuration(report->preparation).c_str(),
              absl::FormatDuration(report->longest_transaction).c_str(), report->lock_retries,
              absl::FormatDuration(slowest).c_str(), written.load(), failed.load());

  EXPECT_EQ(Scalar(**db, "SELECT count(*) FROM price_points WHERE symbol <> 'W'"), kRows);
  EXPECT_EQ(Scalar(**db, "SELECT count(*) FROM price_points WHERE symbol = 'W'"), written.load());
  EXPECT_EQ(Scalar(**db, "SELECT count(*) FROM moving_averages"), kRows);
  EXPECT_EQ(Scalar(**db, "SELECT count(*) FROM bars"), kRows);
  EXPECT_GT(Scalar(**db, "SELECT min(id) FROM price_points WHERE symbol = 'W'"), 0);
  EXPECT_GT(Scalar(**db, "SELECT max(id) FROM price_points"), max_id);
  // Each old table is now the partition of everything before the cutover, with the new key
  // (prepared as an index, never built under the lock) and no other index.
  for (const char* table : {"price_points", "moving_averages", "bars"}) {
    absl::StatusOr<std::vector<TimePartition>> listed = partitions.List(table);
    ASSERT_TRUE(listed.ok()) << listed.status();
    ASSERT_EQ(listed->size(), 1u) << table;
    EXPECT_EQ((*listed)[0].name, std::string(table) + "_legacy");
    EXPECT_GT((*listed)[0].upper, absl::Now() + absl::Hours(24)) << table;
    // price_points keeps its key by id (it goes with the table); its old index by (symbol, ts)
    // was dropped concurrently before the swap.
    EXPECT_EQ(Scalar(**db, absl::StrCat("SELECT count(*) FROM pg_index WHERE indrelid = '", table,
                                        "_legacy'::regclass")),
              std::string(table) == "price_points" ? 2 : 1)
        << table;
    EXPECT_EQ(Scalar(**db, absl::StrCat("SELECT count(*) FROM pg_constraint WHERE conrelid = '",
                                        table, "_legacy'::regclass AND contype = 'c' AND conname "
                                        "LIKE '%before_cutover'")),
              0)
        << table;
  }
  EXPECT_EQ(Scalar(**db, "SELECT count(*) FROM pg_index WHERE indexrelid = "
                         "'price_points_legacy_key'::regclass"),
            1);
  // The sequence belongs to the new table: removing the old one keeps it.
  EXPECT_EQ(Scalar(**db, "SELECT count(*) FROM pg_depend d JOIN pg_class s ON s.oid = d.objid "
                         "WHERE s.relname = 'price_points_id_seq' AND d.refobjid = "
                         "'price_points'::regclass AND d.deptype = 'a'"),
            1);
  // Partitions follow from the cutover.
  PartitionMaintainer maintainer(partitions, MaintainedTables(LifecycleConfig{}));
  ASSERT_TRUE(maintainer.EnsureReady(absl::Seconds(30)).ok());
  EXPECT_GE(maintainer.stats().tables.at("price_points").ahead, 3);
}

TEST(PartitionsTest, AFreshDatabaseHasNoLegacyPartitionAndPartitionsAhead) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated();
  EXPECT_EQ(Scalar(*db, "SELECT count(*) FROM pg_class WHERE relname = 'raw_market_data_legacy'"), 0);
  PostgresPartitionStore partitions(*db);
  absl::StatusOr<std::vector<TimePartition>> listed = partitions.List("raw_market_data");
  ASSERT_TRUE(listed.ok());
  // Default settings: day partitions, yesterday's, today's and three ahead.
  ASSERT_EQ(listed->size(), 5u);
  for (size_t i = 1; i < listed->size(); ++i) {
    EXPECT_EQ(*(*listed)[i].lower, (*listed)[i - 1].upper);
    EXPECT_EQ((*listed)[i].upper - *(*listed)[i].lower, absl::Hours(24));
  }
}

// Bars are kept by interval: in a week a hundred days old, the one-minute bars are past
// BAR_RETENTION_1M (90 days) and go; its five-minute and hourly bars stay and are still served.
TEST(PartitionsTest, OldOneMinuteBarsGoWholeWhileCoarserBarsOfTheSameWeekStay) {
  ScratchDatabase scratch;
  auto db = Database::Connect(scratch.url(), 2, absl::Seconds(10));
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE(ApplyMigrations(**db, EmbeddedMigrations()).ok());
  PostgresPartitionStore partitions(**db);
  const std::vector<MaintainedTable> tables = MaintainedTables(LifecycleConfig{});
  const MaintainedTable& bars = tables[3];
  const absl::Time week = PartitionStart(absl::Now() - absl::Hours(24 * 100), bars.policy.length);
  std::vector<SubPartition> subs;
  for (const MaintainedTable::Sub& sub : bars.subpartitions) subs.push_back(sub.partition);
  absl::StatusOr<bool> made = partitions.WithMaintenanceLock([&](PartitionSession& s) {
    return s.Create("bars", week, week + bars.policy.length, subs);
  });
  ASSERT_TRUE(made.ok() && *made) << made.status();
  const std::string bucket =
      absl::FormatTime("%Y-%m-%d %H:%M:%S+00", week + absl::Hours(1), absl::UTCTimeZone());
  {
    auto lease = MustAcquire(**db);
    for (int interval : {60, 300, 3600, 900}) {
      *lease << absl::StrCat("INSERT INTO bars VALUES ('OLD', ", interval, ", '", bucket,
                             "', 1, 1, 1, 1, 1, NULL, '", bucket, "', 1, '", bucket, "', 1, 1)");
    }
  }
  PartitionMaintainer maintainer(partitions, tables);
  ASSERT_TRUE(maintainer.EnsureReady(absl::Seconds(30)).ok());
  EXPECT_EQ(Scalar(**db, "SELECT count(*) FROM bars WHERE symbol = 'OLD' AND interval_seconds = 60"), 0);
  EXPECT_EQ(Scalar(**db, "SELECT count(*) FROM bars WHERE symbol = 'OLD'"), 3);
  EXPECT_EQ(Scalar(**db, absl::StrCat("SELECT count(*) FROM pg_class WHERE relname = '",
                                      PartitionName("bars", week), "_1m'")),
            0);
  EXPECT_GE(maintainer.stats().tables.at("bars").dropped, 1);
  // The week and its sub-partitions for now are made ahead, each cut by interval.
  EXPECT_GE(maintainer.stats().tables.at("bars").ahead, 3);
  EXPECT_EQ(Scalar(**db, absl::StrCat("SELECT count(*) FROM pg_inherits WHERE inhparent = '",
                                      PartitionName("bars", PartitionStart(absl::Now(), bars.policy.length)),
                                      "'::regclass")),
            5);
}

// An expired partition is removed while a long report holds the table: the report is not
// interrupted, and a price written meanwhile is stored at once (a plain DROP would make it wait
// for the report to end).
TEST(PartitionsTest, RemovalNeverMakesAWriterWait) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated(4);
  PostgresPartitionStore partitions(*db);
  const absl::Time now = absl::Now();
  const absl::Time old = PartitionStart(now - absl::Hours(240), absl::Minutes(1));
  absl::StatusOr<bool> made = partitions.WithMaintenanceLock([&](PartitionSession& s) {
    return s.Create("raw_market_data", old, old + absl::Minutes(1), {});
  });
  ASSERT_TRUE(made.ok() && *made) << made.status();
  const std::string old_name = PartitionName("raw_market_data", old);
  {
    auto lease = MustAcquire(*db);
    *lease << "INSERT INTO " + old_name +
                  " (symbol, provider, response, fetched_at) VALUES ('X', 'test', '{}', '" +
                  absl::FormatTime("%Y-%m-%d %H:%M:%S+00", old, absl::UTCTimeZone()) + "')";
  }

  // The report: a transaction that has read the table, old partition included, and stays open.
  auto reader = MustAcquire(*db);
  *reader << "BEGIN";
  long long seen = 0;
  *reader << "SELECT count(*) FROM raw_market_data", soci::into(seen);
  EXPECT_EQ(seen, 1);

  PartitionMaintainer maintainer(partitions, {Minutes(24 * 60)});
  std::atomic<bool> done{false};
  absl::Status run_status;
  std::thread run([&] {
    run_status = maintainer.RunOnce();
    done = true;
  });
  // Wait until the removal is under way: the partition is marked as being detached.
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (Scalar(*db, "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                     "WHERE c.relname = '" + old_name + "' AND i.inhdetachpending") == 0 &&
         !done && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_FALSE(done) << "the removal did not wait for the open report: " << run_status;

  PostgresPriceStore store(*db);
  absl::StatusOr<StoredPrice> saved = store.SavePrice(MakeQuote("W", 1));
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_FALSE(done) << "the report is still open, so the removal cannot have completed";

  *reader << "COMMIT";
  run.join();
  ASSERT_TRUE(run_status.ok()) << run_status;
  EXPECT_EQ(Scalar(*db, "SELECT count(*) FROM pg_class WHERE relname = '" + old_name + "'"), 0);
  EXPECT_EQ(maintainer.stats().tables.at("raw_market_data").dropped, 1);
}

}  // namespace
}  // namespace marketdata
