// PostgresSnapshotStore against a real PostgreSQL: of each symbol asked for, the newest price
// (by timestamp, then id), the newest average of each stored window and the newest bar of each
// interval, in the order asked; symbols without a stored price are left out (the service lists
// them as unknown), whatever else is stored of them.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "services/storage/bar_store.h"
#include "services/storage/moving_average_store.h"
#include "services/storage/price_store.h"
#include "services/storage/snapshot_store.h"
#include "tests/support/test_bars.h"
#include "tests/support/test_env.h"

namespace marketdata {
namespace {

using ::marketdata::testing::MakeBar;
using ::marketdata::testing::ScratchDatabase;

// 2026-01-01T00:00:00Z: older than the late window, so in the test databases' partition of old
// times.
constexpr int64_t kT0 = 1767225600;
absl::Time At(int64_t seconds) { return absl::FromUnixSeconds(kT0 + seconds); }

std::string T(absl::Time t) { return absl::FormatTime("%H:%M:%S", t, absl::UTCTimeZone()); }

std::string Describe(const StoredPrice& p) {
  return absl::StrCat(p.quote.symbol, " ", p.quote.price, " @", T(p.quote.timestamp), " ",
                      p.quote.provider, " v=",
                      p.quote.volume.has_value() ? absl::StrCat(*p.quote.volume) : "none",
                      " id=", p.price_point_id, " raw=", p.raw_response_id);
}

std::vector<std::string> Describe(const std::vector<AverageRow>& rows) {
  std::vector<std::string> out;
  for (const AverageRow& a : rows) {
    out.push_back(absl::StrCat(a.symbol, " w", a.window, "=", a.value, " @", T(a.timestamp),
                               " #", a.price_point_id));
  }
  return out;
}

// The columns a snapshot serves.
std::vector<std::string> Describe(const std::vector<Bar>& bars) {
  std::vector<std::string> out;
  for (const Bar& b : bars) {
    out.push_back(absl::StrCat(b.key.symbol, "/", b.key.interval_seconds, "s@", T(b.key.start),
                               " o=", b.open, " h=", b.high, " l=", b.low, " c=", b.close,
                               " n=", b.price_count, " v=",
                               b.volume.has_value() ? absl::StrCat(*b.volume) : "none"));
  }
  return out;
}

std::vector<std::string> Symbols(const std::vector<SymbolSnapshot>& snapshots) {
  std::vector<std::string> out;
  for (const SymbolSnapshot& s : snapshots) out.push_back(s.symbol);
  return out;
}

// Saved one statement each, in the order given, so ids ascend in that order.
std::vector<StoredPrice> SavePrices(Database& db, const std::vector<Quote>& quotes) {
  PostgresPriceStore store(db);
  std::vector<StoredPrice> out;
  for (const Quote& q : quotes) {
    absl::StatusOr<StoredPrice> stored = store.SavePrice(q);
    EXPECT_TRUE(stored.ok()) << stored.status();
    if (!stored.ok()) std::abort();
    if (!out.empty()) {
      EXPECT_GT(stored->price_point_id, out.back().price_point_id) << "ids ascend by save";
    }
    out.push_back(*stored);
  }
  return out;
}

Quote Price(const std::string& symbol, absl::Time at, double price,
            std::optional<double> volume = std::nullopt, const std::string& provider = "test") {
  Quote q;
  q.symbol = symbol;
  q.price = price;
  q.timestamp = at;
  q.provider = provider;
  q.raw_response = R"({"price":1})";
  q.volume = volume;
  return q;
}

AverageRow Average(const std::string& symbol, int window, double value, absl::Time at,
                   int64_t id) {
  return AverageRow{symbol, window, value, at, id};
}

void SaveBars(Database& db, const std::vector<Bar>& bars) {
  std::vector<BarKey> keys;
  for (const Bar& b : bars) keys.push_back(b.key);
  absl::StatusOr<std::vector<Bar>> written =
      PostgresBarStore(db).Update(keys, [&bars](const absl::flat_hash_map<BarKey, Bar>&) {
        BarPlan plan;
        plan.updated = bars;
        return plan;
      });
  ASSERT_TRUE(written.ok()) << written.status();
}

std::vector<SymbolSnapshot> MustSnapshot(Database& db, const std::vector<std::string>& symbols) {
  absl::StatusOr<std::vector<SymbolSnapshot>> got = PostgresSnapshotStore(db).Snapshot(symbols);
  EXPECT_TRUE(got.ok()) << got.status();
  if (!got.ok()) return {};
  return *std::move(got);
}

TEST(SnapshotStoreTest, TheNewestPriceOfEachSymbolByTimestampThenId) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated(2);
  const std::vector<StoredPrice> p = SavePrices(*db, {
      Price("AAPL", At(100), 101, 7, "alpha"),  // 0: the newest AAPL, though saved first
      Price("AAPL", At(50), 50),                // 1: a late price, larger id
      Price("AAPL", At(99), 99),                // 2
      Price("MSFT", At(10), 1),                 // 3
      Price("MSFT", At(10), 2),                 // 4: same time as 3, larger id: the newest
      Price("MSFT", At(9), 3),                  // 5: older, largest id
  });
  std::vector<SymbolSnapshot> got = MustSnapshot(*db, {"AAPL", "MSFT"});
  ASSERT_EQ(Symbols(got), (std::vector<std::string>{"AAPL", "MSFT"}));
  EXPECT_EQ(Describe(got[0].price), Describe(p[0]));
  EXPECT_EQ(got[0].price.quote.symbol, "AAPL");
  EXPECT_EQ(Describe(got[1].price), Describe(p[4]));
  // Nothing else was stored of them.
  for (const SymbolSnapshot& s : got) {
    EXPECT_TRUE(s.averages.empty()) << s.symbol;
    EXPECT_TRUE(s.bars.empty()) << s.symbol;
  }
}

TEST(SnapshotStoreTest, TheNewestAverageOfEachWindowAndTheNewestBarOfEachInterval) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated(2);
  SavePrices(*db, {Price("AAPL", At(500), 10), Price("MSFT", At(500), 20)});
  // Windows stored out of order; within each, the newest by time, then by price point id.
  PostgresMovingAverageStore averages(*db);
  ASSERT_TRUE(averages.SaveAverages({
      Average("AAPL", 50, 5.0, At(40), 4),
      Average("AAPL", 5, 1.0, At(20), 9),   // larger id, older
      Average("AAPL", 5, 1.5, At(30), 3),   // the newest of window 5
      Average("AAPL", 20, 2.0, At(30), 7),
      Average("AAPL", 20, 2.5, At(30), 8),  // same time, larger id: the newest of window 20
      Average("AAPL", 20, 2.25, At(25), 12),
      Average("MSFT", 5, 99.0, At(90), 99),  // another symbol's, newer than every AAPL one
      Average("MSFT", 10, 98.0, At(10), 1),
  }).ok());
  SaveBars(*db, {
      MakeBar("AAPL", 60, At(0), 1, 2, 0.5, 1.5, 3, 30),
      MakeBar("AAPL", 60, At(120), 3, 4, 2.5, 3.5, 4, std::nullopt),  // the newest minute
      MakeBar("AAPL", 60, At(60), 5, 6, 4.5, 5.5, 5, 50),
      MakeBar("AAPL", 3600, At(0), 7, 8, 6.5, 7.5, 6, 60),
      MakeBar("AAPL", 300, At(300), 9, 10, 8.5, 9.5, 7, 70),  // the newest 5m
      MakeBar("AAPL", 300, At(0), 11, 12, 10.5, 11.5, 8, 80),
      MakeBar("MSFT", 60, At(600), 13, 14, 12.5, 13.5, 9, 90),  // newer than every AAPL bar
      MakeBar("MSFT", 86400, At(0), 15, 16, 14.5, 15.5, 10, 100),
  });
  std::vector<SymbolSnapshot> got = MustSnapshot(*db, {"AAPL", "MSFT"});
  ASSERT_EQ(Symbols(got), (std::vector<std::string>{"AAPL", "MSFT"}));
  EXPECT_EQ(Describe(got[0].averages),
            Describe(std::vector<AverageRow>{Average("AAPL", 5, 1.5, At(30), 3),
                                             Average("AAPL", 20, 2.5, At(30), 8),
                                             Average("AAPL", 50, 5.0, At(40), 4)}));
  EXPECT_EQ(Describe(got[1].averages),
            Describe(std::vector<AverageRow>{Average("MSFT", 5, 99.0, At(90), 99),
                                             Average("MSFT", 10, 98.0, At(10), 1)}));
  EXPECT_EQ(Describe(got[0].bars),
            Describe(std::vector<Bar>{MakeBar("AAPL", 60, At(120), 3, 4, 2.5, 3.5, 4, std::nullopt),
                                      MakeBar("AAPL", 300, At(300), 9, 10, 8.5, 9.5, 7, 70),
                                      MakeBar("AAPL", 3600, At(0), 7, 8, 6.5, 7.5, 6, 60)}));
  EXPECT_EQ(Describe(got[1].bars),
            Describe(std::vector<Bar>{MakeBar("MSFT", 60, At(600), 13, 14, 12.5, 13.5, 9, 90),
                                      MakeBar("MSFT", 86400, At(0), 15, 16, 14.5, 15.5, 10, 100)}));

  // Asked alone, each symbol gets the same (no other symbol's rows decide what is newest).
  for (size_t i = 0; i < got.size(); ++i) {
    std::vector<SymbolSnapshot> alone = MustSnapshot(*db, {got[i].symbol});
    ASSERT_EQ(alone.size(), 1u);
    EXPECT_EQ(Describe(alone[0].price), Describe(got[i].price));
    EXPECT_EQ(Describe(alone[0].averages), Describe(got[i].averages));
    EXPECT_EQ(Describe(alone[0].bars), Describe(got[i].bars));
  }
}

TEST(SnapshotStoreTest, SymbolsWithoutAStoredPriceAreLeftOutTheRestInTheOrderAsked) {
  ScratchDatabase scratch;
  auto db = scratch.ConnectMigrated(2);
  SavePrices(*db, {Price("AAPL", At(1), 1), Price("MSFT", At(2), 2), Price("IBM", At(3), 3)});
  // GHOST has an average and a bar but no price: still unknown.
  ASSERT_TRUE(PostgresMovingAverageStore(*db)
                  .SaveAverages({Average("GHOST", 5, 1, At(1), 1)})
                  .ok());
  SaveBars(*db, {MakeBar("GHOST", 60, At(0), 1, 1, 1, 1, 1, 1)});

  using Names = std::vector<std::string>;
  EXPECT_EQ(Symbols(MustSnapshot(*db, {"MSFT", "NOPE", "AAPL", "GHOST", "IBM"})),
            (Names{"MSFT", "AAPL", "IBM"}));
  EXPECT_EQ(Symbols(MustSnapshot(*db, {"IBM", "AAPL", "MSFT"})), (Names{"IBM", "AAPL", "MSFT"}));
  EXPECT_EQ(Symbols(MustSnapshot(*db, {"GHOST", "AAPL"})), (Names{"AAPL"}));
  EXPECT_EQ(Symbols(MustSnapshot(*db, {"NOPE", "GHOST"})), Names{});
  // Symbols match exactly (they are normalised before they get here).
  EXPECT_EQ(Symbols(MustSnapshot(*db, {"aapl", "AAP", "AAPL "})), Names{});
  EXPECT_EQ(Symbols(MustSnapshot(*db, {})), Names{});

  // The prices that came with each symbol are its own.
  std::vector<SymbolSnapshot> got = MustSnapshot(*db, {"IBM", "AAPL"});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].price.quote.symbol, "IBM");
  EXPECT_EQ(got[0].price.quote.price, 3);
  EXPECT_EQ(got[1].price.quote.symbol, "AAPL");
  EXPECT_EQ(got[1].price.quote.price, 1);
  EXPECT_TRUE(got[1].averages.empty());
  EXPECT_TRUE(got[1].bars.empty());
}

}  // namespace
}  // namespace marketdata
