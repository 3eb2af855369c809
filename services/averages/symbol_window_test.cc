#include "services/averages/symbol_window.h"

#include <map>

#include "gtest/gtest.h"

namespace marketdata {
namespace {

PricePoint P(int64_t id, double price) {
  return PricePoint{id, absl::FromUnixSeconds(1000 + id), price};
}

// The reference: for every point of a fully known, ordered history.
std::map<std::pair<int, int64_t>, double> Reference(const std::vector<PricePoint>& history,
                                                    const std::vector<int>& windows) {
  std::map<std::pair<int, int64_t>, double> out;
  for (size_t i = 0; i < history.size(); ++i) {
    for (int w : windows) {
      if (i + 1 < static_cast<size_t>(w)) continue;
      double sum = 0;
      for (size_t j = i + 1 - w; j <= i; ++j) sum += history[j].price;
      out[{w, history[i].id}] = sum / w;
    }
  }
  return out;
}

std::map<std::pair<int, int64_t>, double> Collect(const std::vector<AverageRow>& rows) {
  std::map<std::pair<int, int64_t>, double> out;
  for (const auto& r : rows) out[{r.window, r.price_point_id}] = r.value;
  return out;
}

TEST(SymbolWindowTest, NothingWhileFewerThanNPrices) {
  SymbolWindow w("AAPL", {3});
  std::vector<AverageRow> rows;
  w.Add(P(1, 10), &rows);
  w.Add(P(2, 20), &rows);
  EXPECT_TRUE(rows.empty());
  w.Add(P(3, 30), &rows);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].value, 20);
  EXPECT_EQ(rows[0].price_point_id, 3);
  EXPECT_EQ(rows[0].symbol, "AAPL");
  EXPECT_EQ(rows[0].timestamp, absl::FromUnixSeconds(1003));
}

TEST(SymbolWindowTest, InOrderStreamMatchesTheReferenceForEveryWindow) {
  std::vector<int> windows = {1, 5, 20, 50};
  SymbolWindow w("X", windows, 8);
  std::vector<PricePoint> history;
  std::vector<AverageRow> rows;
  for (int i = 1; i <= 500; ++i) {
    history.push_back(P(i, 100 + (i * 37 % 101) / 7.0));
    w.Add(history.back(), &rows);
  }
  EXPECT_EQ(Collect(rows), Reference(history, windows));
  EXPECT_EQ(rows.size(), Reference(history, windows).size());  // each exactly once
  EXPECT_LE(w.size(), 58u);
}

TEST(SymbolWindowTest, SeededWindowContinuesAsIfNeverRestarted) {
  std::vector<int> windows = {5, 20};
  std::vector<PricePoint> history;
  for (int i = 1; i <= 100; ++i) history.push_back(P(i, i * 1.5));
  SymbolWindow w("X", windows);
  w.Seed(std::vector<PricePoint>(history.begin(), history.begin() + 60));
  std::vector<AverageRow> rows;
  for (int i = 60; i < 100; ++i) w.Add(history[i], &rows);
  auto reference = Reference(history, windows);
  for (const auto& [key, value] : Collect(rows)) EXPECT_EQ(value, reference.at(key));
  EXPECT_EQ(rows.size(), 80u);
}

TEST(SymbolWindowTest, DuplicateIsRecomputedIdentically) {
  SymbolWindow w("X", {2});
  std::vector<AverageRow> first, again;
  w.Add(P(1, 1), &first);
  w.Add(P(2, 2), &first);
  w.Add(P(2, 2), &again);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].value, first.back().value);
  EXPECT_EQ(w.size(), 2u);
}

TEST(SymbolWindowTest, LateEventRecomputesTheNewerPoints) {
  std::vector<int> windows = {3};
  std::vector<PricePoint> history;
  for (int i = 1; i <= 10; ++i) history.push_back(P(i, i * i));
  SymbolWindow w("X", windows);
  std::map<std::pair<int, int64_t>, double> latest;
  std::vector<AverageRow> rows;
  for (int i : {0, 1, 2, 3, 5, 6, 4, 7, 8, 9}) {  // point 5 (index 4) arrives late
    w.Add(history[i], &rows);
  }
  for (const auto& r : rows) latest[{r.window, r.price_point_id}] = r.value;  // upsert
  EXPECT_EQ(latest, Reference(history, windows));
}

// After a rebuild the window holds the stored points around the first event and drops the oldest
// beyond its capacity; a late event that lands among the first kept points lacks the neighbours
// some window needs, so it is refused (and averaged from storage) rather than left without an
// average.
TEST(SymbolWindowTest, ALateEventAmongTheFirstKeptPointsIsRefused) {
  std::vector<int> windows = {2, 5};
  SymbolWindow w("X", windows, 2);  // keeps 7 points
  std::vector<PricePoint> stored;
  for (int i = 1; i <= 20; ++i) stored.push_back(P(i, i));
  // Seeded around point 12: 7 before (5..11), 8 after (13..20), older ones exist.
  std::vector<PricePoint> seed(stored.begin() + 4, stored.begin() + 11);
  seed.insert(seed.end(), stored.begin() + 12, stored.end());
  w.Seed(seed, /*history_complete=*/false, /*future_complete=*/true);
  std::vector<AverageRow> rows;
  ASSERT_TRUE(w.Add(stored[19], &rows));  // the newest: trims the window to 14..20
  rows.clear();
  EXPECT_FALSE(w.Add(stored[14], &rows));  // point 15: window 5 would need 11..14
  EXPECT_TRUE(rows.empty());
}

TEST(SymbolWindowTest, PointOlderThanAFullWindowIsRejected) {
  SymbolWindow w("X", {2}, 1);
  std::vector<AverageRow> rows;
  for (int i = 10; i < 20; ++i) w.Add(P(i, i), &rows);
  EXPECT_FALSE(w.Add(P(1, 1), &rows));
}

}  // namespace
}  // namespace marketdata

namespace marketdata {
namespace {

TEST(AverageOfNewestTest, TheMeanOfTheNewestPricesAtTheNewestOne) {
  const absl::Time t = absl::FromUnixSeconds(1700000000);
  // Newest first, as the store reads them.
  const std::vector<PricePoint> newest_first = {
      {3, t + absl::Seconds(3), 30}, {2, t + absl::Seconds(2), 20}, {1, t + absl::Seconds(1), 10}};
  std::optional<AverageRow> two = AverageOfNewest("AAPL", 2, newest_first);
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(two->symbol, "AAPL");
  EXPECT_EQ(two->window, 2);
  EXPECT_EQ(two->value, 25);
  EXPECT_EQ(two->timestamp, t + absl::Seconds(3));
  EXPECT_EQ(two->price_point_id, 3);
  EXPECT_EQ(AverageOfNewest("AAPL", 3, newest_first)->value, 20);
  EXPECT_FALSE(AverageOfNewest("AAPL", 4, newest_first).has_value());
  EXPECT_FALSE(AverageOfNewest("AAPL", 0, newest_first).has_value());
}

// The same value, bit for bit, as the consumer's window gives the same point.
TEST(AverageOfNewestTest, AgreesWithTheWindowBitForBit) {
  const absl::Time t = absl::FromUnixSeconds(1700000000);
  std::vector<PricePoint> oldest_first;
  for (int i = 1; i <= 7; ++i) oldest_first.push_back({i, t + absl::Seconds(i), 0.1 * i + 1e-9 * i * i});
  SymbolWindow window("AAPL", {5});
  std::vector<AverageRow> out;
  for (const PricePoint& p : oldest_first) ASSERT_TRUE(window.Add(p, &out));
  const std::vector<PricePoint> newest_first(oldest_first.rbegin(), oldest_first.rend());
  std::optional<AverageRow> asked = AverageOfNewest("AAPL", 5, newest_first);
  ASSERT_TRUE(asked.has_value());
  EXPECT_EQ(asked->value, out.back().value);
  EXPECT_EQ(asked->price_point_id, out.back().price_point_id);
}

}  // namespace
}  // namespace marketdata
