#include "services/storage/snapshot_store.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"

namespace marketdata {
namespace {

// Each reads one row per symbol (and window or interval) through the tables' keys.
constexpr PreparedSql kPrices = {"snapshot_prices", R"SQL(
SELECT p.id, p.raw_response_id, p.symbol, p.price, p.ts, p.provider, p.volume
FROM unnest(CAST($1 AS TEXT[])) AS s(symbol)
CROSS JOIN LATERAL (SELECT * FROM price_points WHERE symbol = s.symbol
                    ORDER BY ts DESC, id DESC LIMIT 1) p)SQL"};

// Every column descending: the table's one key, walked backwards (windows are put back in
// ascending order below).
constexpr PreparedSql kAverages = {"snapshot_averages", R"SQL(
SELECT DISTINCT ON (symbol, window_size) symbol, window_size, value, ts, price_point_id
FROM moving_averages WHERE symbol = ANY(CAST($1 AS TEXT[]))
ORDER BY symbol DESC, window_size DESC, ts DESC, price_point_id DESC)SQL"};

constexpr PreparedSql kBars = {"snapshot_bars", R"SQL(
SELECT DISTINCT ON (symbol, interval_seconds) symbol, interval_seconds, bucket_start, open, high,
       low, close, price_count, volume
FROM bars WHERE symbol = ANY(CAST($1 AS TEXT[]))
ORDER BY symbol, interval_seconds, bucket_start DESC)SQL"};

}  // namespace

absl::StatusOr<std::vector<SymbolSnapshot>> PostgresSnapshotStore::Snapshot(
    const std::vector<std::string>& symbols) {
  constexpr absl::string_view kWhat = "reading a snapshot";
  absl::StatusOr<Database::Lease> lease = db_.Acquire();
  if (!lease.ok()) return lease.status();
  const SqlParams list = SqlParams().TextArray(symbols);
  absl::flat_hash_map<std::string, SymbolSnapshot> by_symbol;
  {
    absl::StatusOr<PgResult> rows = lease->Run(kPrices, list, kWhat);
    if (!rows.ok()) return rows.status();
    for (int r = 0; r < rows->rows(); ++r) {
      SymbolSnapshot snap;
      snap.price.price_point_id = rows->int64(r, 0);
      snap.price.raw_response_id = rows->int64(r, 1);
      snap.symbol = snap.price.quote.symbol = std::string(rows->text(r, 2));
      snap.price.quote.price = rows->float64(r, 3);
      snap.price.quote.timestamp = rows->time(r, 4);
      snap.price.quote.provider = std::string(rows->text(r, 5));
      snap.price.quote.volume = rows->optional_float64(r, 6);
      by_symbol.emplace(snap.symbol, std::move(snap));
    }
  }
  {
    absl::StatusOr<PgResult> rows = lease->Run(kAverages, list, kWhat);
    if (!rows.ok()) return rows.status();
    for (int r = 0; r < rows->rows(); ++r) {
      auto it = by_symbol.find(rows->text(r, 0));
      if (it == by_symbol.end()) continue;
      AverageRow a;
      a.symbol = it->first;
      a.window = static_cast<int>(rows->int64(r, 1));
      a.value = rows->float64(r, 2);
      a.timestamp = rows->time(r, 3);
      a.price_point_id = rows->int64(r, 4);
      it->second.averages.push_back(std::move(a));
    }
    for (auto& [symbol, snapshot] : by_symbol) {
      std::reverse(snapshot.averages.begin(), snapshot.averages.end());
    }
  }
  {
    absl::StatusOr<PgResult> rows = lease->Run(kBars, list, kWhat);
    if (!rows.ok()) return rows.status();
    for (int r = 0; r < rows->rows(); ++r) {
      auto it = by_symbol.find(rows->text(r, 0));
      if (it == by_symbol.end()) continue;
      Bar b;
      b.key.symbol = it->first;
      b.key.interval_seconds = static_cast<int>(rows->int64(r, 1));
      b.key.start = rows->time(r, 2);
      b.open = rows->float64(r, 3);
      b.high = rows->float64(r, 4);
      b.low = rows->float64(r, 5);
      b.close = rows->float64(r, 6);
      b.price_count = rows->int64(r, 7);
      b.volume = rows->optional_float64(r, 8);
      it->second.bars.push_back(std::move(b));
    }
  }
  std::vector<SymbolSnapshot> out;
  for (const std::string& symbol : symbols) {
    auto it = by_symbol.find(symbol);
    if (it != by_symbol.end()) out.push_back(std::move(it->second));
  }
  return out;
}

}  // namespace marketdata
