// PostgresBarStore against a real PostgreSQL: bars recomputed from price_points (exact OHLCV,
// open and close by timestamp then id, prices counted up to a given id), bars rolled up from the
// smallest interval of a batch equal to the same bars computed from prices, writing a bar again
// changes nothing, deltas merged into stored bars equal MergeBars and are refused where the
// stored bar may count their prices, a bar planned from no row never overwrites one merged
// meanwhile, a second writer of the same bars waits for the first, and listing is newest
// first within [start, end), paged without gaps or repeats.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "services/common/testing/wait_for.h"
#include "services/bars/bars.h"
#include "services/storage/bar_store.h"
#include "services/storage/price_store.h"
#include "soci/soci.h"
#include "tests/support/test_bars.h"
#include "tests/support/test_env.h"

namespace marketdata {
namespace {

using ::marketdata::testing::MakeBar;
using ::marketdata::testing::MustAcquire;
using ::marketdata::testing::ScratchDatabase;

// 2026-01-01T00:00:00Z: a multiple of every interval used here (60, 90, 300, 3600 seconds), and
// older than the late window, so it lands in the test databases' partition of old times.
constexpr int64_t kT0 = 1767225600;
absl::Time At(int64_t seconds) { return absl::FromUnixSeconds(kT0 + seconds); }

std::string Describe(const Bar& b) {
  auto t = [](absl::Time x) { return absl::FormatTime("%H:%M:%S", x, absl::UTCTimeZone()); };
  return absl::StrCat(b.key.symbol, "/", b.key.interval_seconds, "s@", t(b.key.start),
                      " o=", b.open, " h=", b.high, " l=", b.low, " c=", b.close,
                      " n=", b.price_count,
                      " v=", b.volume.has_value() ? absl::StrCat(*b.volume) : "none",
                      " open=(", t(b.open_ts), ",", b.open_id, ")",
                      " close=(", t(b.close_ts), ",", b.close_id, ") max_id=", b.max_id);
}

std::vector<std::string> Describe(const std::vector<Bar>& bars) {
  std::vector<std::string> out;
  for (const Bar& b : bars) out.push_back(Describe(b));
  return out;
}

// Saves the prices one statement each, in the order given, so their ids ascend in that order.
std::vector<int64_t> SavePrices(Database& db, const std::vector<Quote>& quotes) {
  PostgresPriceStore store(db);
  std::vector<int64_t> ids;
  for (const Quote& q : quotes) {
    absl::StatusOr<StoredPrice> stored = store.SavePrice(q);
    EXPECT_TRUE(stored.ok()) << stored.status();
    if (!stored.ok()) std::abort();
    if (!ids.empty()) {
      EXPECT_GT(stored->price_point_id, ids.back()) << "ids ascend by save";
    }
    ids.push_back(stored->price_point_id);
  }
  return ids;
}

Quote Price(const std::string& symbol, absl::Time at, double price,
            std::optional<double> volume = std::nullopt) {
  Quote q;
  q.symbol = symbol;
  q.price = price;
  q.timestamp = at;
  q.provider = "test";
  q.raw_response = R"({"price":1})";
  q.volume = volume;
  return q;
}

// Plans: recompute every key from price_points (up to `through`), or write `bars` as given.
BarStore::Planner Recompute(const std::vector<BarKey>& keys,
                            int64_t through = std::numeric_limits<int64_t>::max()) {
  return [keys, through](const absl::flat_hash_map<BarKey, Bar>&) {
    BarPlan plan;
    plan.recompute = keys;
    plan.recompute_through.assign(keys.size(), through);
    return plan;
  };
}

BarStore::Planner Replace(const std::vector<Bar>& bars) {
  return [bars](const absl::flat_hash_map<BarKey, Bar>&) {
    BarPlan plan;
    plan.updated = bars;
    return plan;
  };
}

std::vector<BarKey> KeysOf(const std::vector<Bar>& bars) {
  std::vector<BarKey> keys;
  for (const Bar& b : bars) keys.push_back(b.key);
  return keys;
}

// The whole table as text, every column, in key order.
std::string TableDump(Database& db) {
  auto lease = MustAcquire(db);
  std::string dump;
  soci::indicator ind = soci::i_ok;
  *lease << "SELECT string_agg(CAST(b AS TEXT), E'\\n' "
            "ORDER BY symbol, interval_seconds, bucket_start) FROM bars b",
      soci::into(dump, ind);
  return ind == soci::i_null ? "" : dump;
}

long long BarRows(Database& db) {
  auto lease = MustAcquire(db);
  long long n = 0;
  *lease << "SELECT count(*) FROM bars", soci::into(n);
  return n;
}

// The one stored bar of `key`, read back through List.
std::optional<Bar> Stored(BarStore& store, const BarKey& key) {
  BarQuery q;
  q.symbol = key.symbol;
  q.interval_seconds = key.interval_seconds;
  q.start = key.start;
  q.end = key.start + absl::Seconds(1);
  absl::StatusOr<BarPage> page = store.List(q);
  EXPECT_TRUE(page.ok()) << page.status();
  if (!page.ok() || page->bars.empty()) return std::nullopt;
  EXPECT_EQ(page->bars.size(), 1u);
  return page->bars[0];
}

// A minute of AAPL whose open, close and extremes each hinge on the (timestamp, id) order, with
// neighbours that must not count: the next minute, the previous one, another symbol. Returns
// the ids of a..i.
std::vector<int64_t> SaveMinute(Database& db) {
  return SavePrices(db, {
      Price("AAPL", At(30), 12, 1),            // a: smallest id, but not the earliest
      Price("AAPL", At(10), 10, 2),            // b: earliest (ts, id): the open
      Price("AAPL", At(10), 11, 3),            // c: same ts as b, larger id
      Price("AAPL", At(50), 9),                // d: the low; no volume
      Price("AAPL", At(50), 13, 4),            // e: latest (ts, id): the close
      Price("AAPL", At(45), 15, 5),            // f: the high; largest id, not the latest ts
      Price("AAPL", At(60), 100, 50),          // g: next minute (the end is exclusive)
      Price("AAPL", At(-1), 1, 60),            // h: previous minute
      Price("MSFT", At(20), 1000, 70),         // i: another symbol
  });
}

TEST(BarStoreTest, RecomputedBarIsTheExactOhlcvOfItsPrices) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated(2);
  PostgresBarStore store(*db);
  const std::vector<int64_t> id = SaveMinute(*db);
  const BarKey key{"AAPL", 60, At(0)};
  absl::StatusOr<std::vector<Bar>> written = store.Update({key}, Recompute({key}));
  ASSERT_TRUE(written.ok()) << written.status();
  const Bar want = MakeBar("AAPL", 60, At(0), /*open=*/10, /*high=*/15, /*low=*/9, /*close=*/13,
                           /*count=*/6, /*volume=*/1 + 2 + 3 + 4 + 5, At(10), id[1], At(50),
                           id[4], /*max_id=*/id[5]);
  EXPECT_EQ(Describe(*written), std::vector<std::string>{Describe(want)});
  std::optional<Bar> stored = Stored(store, key);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(Describe(*stored), Describe(want));
  EXPECT_EQ(BarRows(*db), 1);
}

TEST(BarStoreTest, RecomputeCountsPricesOnlyUpToTheGivenId) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated(2);
  PostgresBarStore store(*db);
  const std::vector<int64_t> id = SaveMinute(*db);
  const BarKey key{"AAPL", 60, At(0)};
  // Through e: f (the high, and the largest id) is left for its own event.
  ASSERT_TRUE(store.Update({key}, Recompute({key}, id[4])).ok());
  std::optional<Bar> stored = Stored(store, key);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(Describe(*stored), Describe(MakeBar("AAPL", 60, At(0), 10, 13, 9, 13, 5, 1 + 2 + 3 + 4,
                                                At(10), id[1], At(50), id[4], id[4])));
  // Through a only: a is both open and close.
  ASSERT_TRUE(store.Update({key}, Recompute({key}, id[0])).ok());
  stored = Stored(store, key);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(Describe(*stored), Describe(MakeBar("AAPL", 60, At(0), 12, 12, 12, 12, 1, 1, At(30),
                                                id[0], At(30), id[0], id[0])));
}

TEST(BarStoreTest, BarOfPricesWithoutVolumeHasNone) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated(2);
  PostgresBarStore store(*db);
  const std::vector<int64_t> id =
      SavePrices(*db, {Price("IBM", At(5), 7), Price("IBM", At(6), 8)});
  const BarKey key{"IBM", 60, At(0)};
  absl::StatusOr<std::vector<Bar>> written = store.Update({key}, Recompute({key}));
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(Describe(*written), std::vector<std::string>{Describe(MakeBar(
                                    "IBM", 60, At(0), 7, 8, 7, 8, 2, std::nullopt, At(5), id[0],
                                    At(6), id[1], id[1]))});
}

TEST(BarStoreTest, WritingTheSameBarsAgainChangesNothing) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated(2);
  PostgresBarStore store(*db);
  const std::vector<Bar> bars = {
      MakeBar("AAPL", 60, At(0), 1, 3, 0.5, 2, 4, 10, At(1), 11, At(59), 14, 14),
      MakeBar("AAPL", 300, At(0), 1, 3, 0.5, 2, 4, 10, At(1), 11, At(59), 14, 14),
      MakeBar("MSFT", 60, At(0), 5, 5, 5, 5, 1, std::nullopt, At(2), 12, At(2), 12, 12)};
  ASSERT_TRUE(store.Update(KeysOf(bars), Replace(bars)).ok());
  const std::string first = TableDump(*db);
  ASSERT_EQ(BarRows(*db), 3);
  // The same bars again (a redelivered batch): the same rows, not more.
  absl::StatusOr<std::vector<Bar>> again = store.Update(KeysOf(bars), Replace(bars));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->size(), 3u);
  EXPECT_EQ(TableDump(*db), first);
  EXPECT_EQ(BarRows(*db), 3);
  for (const Bar& b : bars) {
    std::optional<Bar> stored = Stored(store, b.key);
    ASSERT_TRUE(stored.has_value()) << Describe(b);
    EXPECT_EQ(Describe(*stored), Describe(b));
  }

  // The same for bars recomputed from prices, twice.
  SaveMinute(*db);
  const BarKey minute{"AAPL", 60, At(0)};
  ASSERT_TRUE(store.Update({minute}, Recompute({minute})).ok());
  const std::string recomputed = TableDump(*db);
  EXPECT_NE(recomputed, first) << "the recomputed bar replaced the one written above";
  ASSERT_TRUE(store.Update({minute}, Recompute({minute})).ok());
  EXPECT_EQ(TableDump(*db), recomputed);
  EXPECT_EQ(BarRows(*db), 3);

  // A changed bar replaces the stored one in place.
  Bar changed = bars[2];
  changed.close = 6;
  changed.high = 6;
  changed.price_count = 2;
  changed.max_id = 13;
  ASSERT_TRUE(store.Update({changed.key}, Replace({changed})).ok());
  EXPECT_EQ(BarRows(*db), 3);
  std::optional<Bar> stored = Stored(store, changed.key);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(Describe(*stored), Describe(changed));
}

// A batch's bars of larger intervals are rolled up from its bars of the smallest one where they
// are a multiple of it (else computed from prices): either way, they must equal the bars
// computed from the prices alone.
TEST(BarStoreTest, RolledUpBarsEqualTheBarsComputedFromPrices) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated(2);
  PostgresBarStore store(*db);
  const std::vector<int64_t> id = SavePrices(*db, {
      Price("AAPL", At(200), 20, 1),   // 0: minute 3
      Price("AAPL", At(5), 10, 2),     // 1: minute 0: the open of the 5m bar
      Price("AAPL", At(5), 11),        // 2: same ts, larger id
      Price("AAPL", At(70), 30, 3),    // 3: minute 1: the high
      Price("AAPL", At(95), 2, 4),     // 4: minute 1: the low
      Price("AAPL", At(299), 17, 5),   // 5: minute 4: the close of the 5m bar
      Price("AAPL", At(299), 18),      // 6: same ts, larger id
      Price("AAPL", At(250), 16, 6),   // 7: minute 4, earlier; largest id so far
      Price("AAPL", At(300), 99, 7),   // 8: next 5m bucket (and next 90s bucket)
      Price("AAPL", At(3599), 1, 8),   // 9: last second of the hour
  });
  // Minute 2 has no price: its key is asked for, and no bar comes of it.
  std::vector<BarKey> keys;
  for (int m = 0; m < 5; ++m) keys.push_back({"AAPL", 60, At(m * 60)});
  const std::vector<BarKey> larger = {{"AAPL", 300, At(0)},   // rolled up from the minutes
                                      {"AAPL", 3600, At(0)},  // rolled up (from stored minutes)
                                      {"AAPL", 90, At(0)},    // not a multiple: from prices
                                      {"AAPL", 90, At(90)}};
  keys.insert(keys.end(), larger.begin(), larger.end());
  absl::StatusOr<std::vector<Bar>> written = store.Update(keys, Recompute(keys));
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(written->size(), 4u /* minutes 0, 1, 3, 4 */ + 4u) << ::testing::PrintToString(
      Describe(*written));
  EXPECT_FALSE(Stored(store, {"AAPL", 60, At(120)}).has_value());

  const Bar five = MakeBar("AAPL", 300, At(0), 10, 30, 2, 18, 8, 1 + 2 + 3 + 4 + 5 + 6, At(5),
                           id[1], At(299), id[6], id[7]);
  std::optional<Bar> stored = Stored(store, five.key);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(Describe(*stored), Describe(five));
  // The hour is rolled up from the stored minutes: those of the batch only (the minutes of
  // 00:05 and 00:59 are not written yet).
  const Bar hour_from_minutes = MakeBar("AAPL", 3600, At(0), 10, 30, 2, 18, 8,
                                        1 + 2 + 3 + 4 + 5 + 6, At(5), id[1], At(299), id[6], id[7]);
  stored = Stored(store, hour_from_minutes.key);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(Describe(*stored), Describe(hour_from_minutes));

  // Each larger bar alone in a batch (its own smallest interval): computed from prices only.
  for (const BarKey& key : larger) {
    std::optional<Bar> rolled = Stored(store, key);
    ASSERT_TRUE(rolled.has_value()) << key.interval_seconds;
    if (key.interval_seconds == 3600) {
      // Once the minutes of 00:05 and 00:59 are written too (as their prices' events would),
      // the roll-up counts every price, and so must equal the hour computed from them.
      const std::vector<BarKey> rest = {{"AAPL", 60, At(300)}, {"AAPL", 60, At(3540)}, key};
      ASSERT_TRUE(store.Update(rest, Recompute(rest)).ok());
      rolled = Stored(store, key);
      ASSERT_TRUE(rolled.has_value());
    }
    ASSERT_TRUE(store.Update({key}, Recompute({key})).ok());
    std::optional<Bar> from_prices = Stored(store, key);
    ASSERT_TRUE(from_prices.has_value());
    EXPECT_EQ(Describe(*rolled), Describe(*from_prices));
  }
  stored = Stored(store, {"AAPL", 90, At(90)});
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(Describe(*stored), Describe(MakeBar("AAPL", 90, At(90), 2, 2, 2, 2, 1, 4, At(95), id[4],
                                                At(95), id[4], id[4])));
  stored = Stored(store, {"AAPL", 3600, At(0)});
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(Describe(*stored), Describe(MakeBar("AAPL", 3600, At(0), 10, 99, 1, 1, 10,
                                                1 + 2 + 3 + 4 + 5 + 6 + 7 + 8, At(5), id[1],
                                                At(3599), id[9], id[9])));
}

// Deltas merged in SQL equal MergeBars: the open and close by (timestamp, id) either side, ties
// broken by id, volumes added to none or to some; a delta whose open_id is not beyond the stored
// max_id is refused and the row left as it was; a delta without a row is stored as it is.
TEST(BarStoreTest, MergedDeltasEqualMergeBarsAndOnlyNewPricesAreMerged) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated(2);
  PostgresBarStore store(*db);
  const std::vector<Bar> stored = {
      // open (10 s, 5), close (40 s, 8), max_id 9, no volume.
      MakeBar("AAPL", 60, At(0), 10, 12, 9, 11, 4, std::nullopt, At(10), 5, At(40), 8, 9),
      MakeBar("MSFT", 60, At(0), 20, 22, 19, 21, 2, 300, At(30), 3, At(30), 4, 4),
      MakeBar("GOOG", 60, At(0), 30, 30, 30, 30, 1, 1, At(20), 7, At(20), 7, 7),
  };
  ASSERT_TRUE(store.Update(KeysOf(stored), Replace(stored)).ok());
  const std::vector<Bar> deltas = {
      // Earlier open by timestamp, later close, a new high; volume to a bar without.
      MakeBar("AAPL", 60, At(0), 7, 13, 8, 6, 3, 50, At(5), 10, At(55), 12, 12),
      // Same timestamps as the stored open and close: the larger id closes, the smaller opens.
      MakeBar("MSFT", 60, At(0), 25, 25, 18, 24, 2, std::nullopt, At(30), 5, At(30), 6, 6),
      // open_id 7 is not beyond GOOG's max_id 7: its prices may be counted already.
      MakeBar("GOOG", 60, At(0), 1, 1, 1, 1, 1, 1, At(25), 7, At(25), 7, 7),
      // No row yet.
      MakeBar("TSLA", 60, At(0), 250, 251, 249, 250, 3, 9, At(1), 20, At(50), 22, 22),
  };
  absl::StatusOr<std::vector<Bar>> merged = store.Merge(deltas);
  ASSERT_TRUE(merged.ok()) << merged.status();
  std::vector<std::string> got = Describe(*merged);
  std::sort(got.begin(), got.end());
  std::vector<std::string> want = {Describe(MergeBars(stored[0], deltas[0])),
                                   Describe(MergeBars(stored[1], deltas[1])),
                                   Describe(deltas[3])};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  // The returned bars are what is stored; GOOG is untouched.
  for (const Bar& bar : *merged) {
    std::optional<Bar> row = Stored(store, bar.key);
    ASSERT_TRUE(row.has_value());
    EXPECT_EQ(Describe(*row), Describe(bar));
  }
  std::optional<Bar> goog = Stored(store, stored[2].key);
  ASSERT_TRUE(goog.has_value());
  EXPECT_EQ(Describe(*goog), Describe(stored[2]));
  // Merging the same deltas again changes nothing: each is now counted.
  const std::string before = TableDump(*db);
  merged = store.Merge(deltas);
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_TRUE(merged->empty()) << ::testing::PrintToString(Describe(*merged));
  EXPECT_EQ(TableDump(*db), before);
}

// A writer plans a bar from no row while another merges a delta into the same key: the planned
// bar is not written over the merged one; the transaction fails with ABORTED (to be tried again)
// and the merged row stays.
TEST(BarStoreTest, ABarPlannedFromNoRowNeverOverwritesOneMergedMeanwhile) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated(2);
  PostgresBarStore store(*db);
  const Bar merged_bar = MakeBar("AAPL", 60, At(0), 1, 1, 1, 1, 1, 1, At(1), 5, At(1), 5, 5);
  const Bar planned = MakeBar("AAPL", 60, At(0), 2, 2, 2, 2, 1, 1, At(2), 6, At(2), 6, 6);
  absl::StatusOr<std::vector<Bar>> written =
      store.Update({planned.key}, [&](const absl::flat_hash_map<BarKey, Bar>& current) {
        EXPECT_TRUE(current.empty());
        absl::StatusOr<std::vector<Bar>> merged = store.Merge({merged_bar});  // another session
        EXPECT_TRUE(merged.ok() && merged->size() == 1u) << merged.status();
        BarPlan plan;
        plan.updated = {planned};
        return plan;
      });
  EXPECT_TRUE(absl::IsAborted(written.status())) << written.status();
  std::optional<Bar> row = Stored(store, planned.key);
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(Describe(*row), Describe(merged_bar));
}

// Adds one to the price count of each stored bar of `keys` (a bar of one, when none is stored),
// calling `planning` first: what a writer that adds a price to the bars it read does.
BarStore::Planner AddOne(const std::vector<BarKey>& keys, std::function<void()> planning) {
  return [keys, planning](const absl::flat_hash_map<BarKey, Bar>& current) {
    if (planning) planning();
    BarPlan plan;
    for (const BarKey& key : keys) {
      auto it = current.find(key);
      Bar b = it != current.end()
                  ? it->second
                  : MakeBar(key.symbol, key.interval_seconds, key.start, 1, 1, 1, 1, 0,
                            std::nullopt, key.start, 1, key.start, 1, 1);
      ++b.price_count;
      plan.updated.push_back(b);
    }
    return plan;
  };
}

// Sessions of the scratch database waiting for a lock (a writer blocked behind another's
// transaction).
int LockWaiters(Database& db) {
  auto lease = MustAcquire(db);
  int waiting = 0;
  *lease << "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'",
      soci::into(waiting);
  return waiting;
}

// Two writers add one to each bar of `keys` at once: the first pauses while it plans (its
// transaction open), then the second starts. Returns whether the second waited for a lock before
// the first went on, rather than planning from what the first had not committed.
bool SecondWriterWaited(Database& db, PostgresBarStore& store, const std::vector<BarKey>& keys) {
  absl::Notification first_planning, release_first, second_planning;
  absl::Status first_status, second_status;
  std::thread first([&] {
    first_status = store
                       .Update(keys, AddOne(keys,
                                            [&] {
                                              first_planning.Notify();
                                              release_first.WaitForNotification();
                                            }))
                       .status();
  });
  first_planning.WaitForNotification();
  std::thread second([&] {
    second_status =
        store.Update(keys, AddOne(keys, [&] { second_planning.Notify(); })).status();
  });
  bool second_waited = false;
  WaitFor(
      [&] {
        second_waited = LockWaiters(db) >= 1;
        return second_waited || second_planning.HasBeenNotified();
      },
      absl::Minutes(1));
  release_first.Notify();
  first.join();
  second.join();
  EXPECT_TRUE(first_status.ok()) << first_status;
  EXPECT_TRUE(second_status.ok()) << second_status;
  return second_waited;
}

// Two writers of the same stored bar: the second reads the bar only once the first committed,
// so neither's addition is lost.
TEST(BarStoreTest, ASecondWriterOfAStoredBarWaitsForTheFirst) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated(3);
  PostgresBarStore store(*db);
  const std::vector<BarKey> keys = {{"AAPL", 60, At(0)}, {"AAPL", 300, At(0)}};
  ASSERT_TRUE(store.Update(keys, AddOne(keys, nullptr)).ok());  // count 1 each
  EXPECT_TRUE(SecondWriterWaited(*db, store, keys))
      << "the second writer never waited for the first's rows";
  for (const BarKey& key : keys) {
    std::optional<Bar> stored = Stored(store, key);
    ASSERT_TRUE(stored.has_value());
    EXPECT_EQ(stored->price_count, 3) << key.interval_seconds << "s: an addition was lost";
  }
}

// The same for a bar not stored yet: both writers make it, and the second must count the first's
// addition. SELECT ... FOR UPDATE holds only rows that exist; the store locks the keys first, so
// the second writer waits instead of planning the bar from its own events alone (whose upsert
// would then overwrite the first's: both bars would end with price_count 1, not 2).
TEST(BarStoreTest, ASecondWriterOfANewBarWaitsForTheFirst) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated(3);
  PostgresBarStore store(*db);
  const std::vector<BarKey> keys = {{"AAPL", 60, At(0)}, {"AAPL", 300, At(0)}};
  EXPECT_TRUE(SecondWriterWaited(*db, store, keys))
      << "the second writer planned the new bars while the first held them";
  for (const BarKey& key : keys) {
    std::optional<Bar> stored = Stored(store, key);
    ASSERT_TRUE(stored.has_value());
    EXPECT_EQ(stored->price_count, 2) << key.interval_seconds << "s: an addition was lost";
  }
}

class BarListTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = scratch_.ConnectMigrated(2);
    store_ = std::make_unique<PostgresBarStore>(*db_);
    std::vector<Bar> bars;
    for (int i = 0; i < 25; ++i) {
      bars.push_back(MakeBar("AAPL", 60, At(i * 60), i, i + 1, i - 1, i + 0.5, 1, std::nullopt,
                             At(i * 60), i + 1, At(i * 60), i + 1, i + 1));
    }
    // Neighbours that no AAPL 1m query may return: another interval, another symbol.
    for (int i = 0; i < 5; ++i) {
      bars.push_back(MakeBar("AAPL", 300, At(i * 300), 1, 1, 1, 1, 1, std::nullopt, At(i * 300),
                             1, At(i * 300), 1, 1));
      bars.push_back(MakeBar("AAPLX", 60, At(i * 60), 1, 1, 1, 1, 1, std::nullopt, At(i * 60), 1,
                             At(i * 60), 1, 1));
    }
    ASSERT_TRUE(store_->Update(KeysOf(bars), Replace(bars)).ok());
  }

  // Every page of `query`, limit `limit`, as the bucket minutes, page by page.
  std::vector<std::vector<int>> Walk(BarQuery query, int limit) {
    query.limit = limit;
    std::vector<std::vector<int>> pages;
    for (int guard = 0; guard < 100; ++guard) {
      absl::StatusOr<BarPage> page = store_->List(query);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      std::vector<int> minutes;
      for (const Bar& b : page->bars) {
        EXPECT_EQ(b.key.symbol, "AAPL");
        EXPECT_EQ(b.key.interval_seconds, 60);
        minutes.push_back(static_cast<int>((absl::ToUnixSeconds(b.key.start) - kT0) / 60));
      }
      pages.push_back(minutes);
      if (page->next_page_token.empty()) break;
      query.page_token = page->next_page_token;
    }
    return pages;
  }

  static BarQuery Query(std::optional<int> start_minute, std::optional<int> end_minute) {
    BarQuery q;
    q.symbol = "AAPL";
    q.interval_seconds = 60;
    if (start_minute) q.start = At(*start_minute * 60);
    if (end_minute) q.end = At(*end_minute * 60);
    return q;
  }

  ScratchDatabase scratch_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<PostgresBarStore> store_;
};

std::vector<int> Descending(int from, int down_to) {
  std::vector<int> out;
  for (int m = from; m >= down_to; --m) out.push_back(m);
  return out;
}

TEST_F(BarListTest, NewestFirstWithinStartInclusiveEndExclusive) {
  using Pages = std::vector<std::vector<int>>;
  // [3, 20): minute 3 in, minute 20 out.
  EXPECT_EQ(Walk(Query(3, 20), 100), (Pages{Descending(19, 3)}));
  // Only a start, only an end, neither.
  EXPECT_EQ(Walk(Query(22, std::nullopt), 100), (Pages{{24, 23, 22}}));
  EXPECT_EQ(Walk(Query(std::nullopt, 2), 100), (Pages{{1, 0}}));
  EXPECT_EQ(Walk(Query(std::nullopt, std::nullopt), 100), (Pages{Descending(24, 0)}));
  // A bound between buckets: a bar belongs by its start.
  BarQuery q = Query(std::nullopt, std::nullopt);
  q.start = At(3 * 60 + 1);
  q.end = At(5 * 60 + 1);
  EXPECT_EQ(Walk(q, 100), (Pages{{5, 4}}));
}

TEST_F(BarListTest, PagesContinueWithoutGapsOrRepeats) {
  using Pages = std::vector<std::vector<int>>;
  const std::vector<int> all = Descending(19, 3);  // 17 bars
  EXPECT_EQ(Walk(Query(3, 20), 5),
            (Pages{{19, 18, 17, 16, 15}, {14, 13, 12, 11, 10}, {9, 8, 7, 6, 5}, {4, 3}}));
  for (int limit : {1, 2, 3, 4, 16, 17, 18}) {
    Pages pages = Walk(Query(3, 20), limit);
    std::vector<int> joined;
    for (const std::vector<int>& p : pages) {
      EXPECT_FALSE(p.empty()) << "limit " << limit << ": no empty last page";
      EXPECT_LE(p.size(), static_cast<size_t>(limit));
      joined.insert(joined.end(), p.begin(), p.end());
    }
    EXPECT_EQ(joined, all) << "limit " << limit;
    EXPECT_EQ(pages.size(), (all.size() + limit - 1) / limit) << "limit " << limit;
  }
}

TEST_F(BarListTest, AnEmptyRangeGivesNothing) {
  for (int minute : {0, 7, 24, 30}) {
    absl::StatusOr<BarPage> page = store_->List(Query(minute, minute));
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_TRUE(page->bars.empty()) << "[" << minute << ", " << minute << ")";
    EXPECT_EQ(page->next_page_token, "");
  }
  // Nothing of an unknown symbol or interval either.
  BarQuery q = Query(std::nullopt, std::nullopt);
  q.symbol = "NOPE";
  absl::StatusOr<BarPage> page = store_->List(q);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(page->bars.empty());
  q.symbol = "AAPL";
  q.interval_seconds = 3600;
  page = store_->List(q);
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(page->bars.empty());
}

TEST_F(BarListTest, AMalformedPageTokenIsInvalidArgument) {
  for (const char* token : {"x", "12.", "1.-1", "99999999999999999999.0"}) {
    BarQuery q = Query(std::nullopt, std::nullopt);
    q.page_token = token;
    absl::StatusOr<BarPage> page = store_->List(q);
    EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument) << token;
  }
}

}  // namespace
}  // namespace marketdata
