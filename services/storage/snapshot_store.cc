#include "services/storage/snapshot_store.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "soci/soci.h"

namespace marketdata {
namespace {

// Each reads one row per symbol (and window or interval) through the tables' indexes.
constexpr char kPrices[] =
    "SELECT p.id, p.raw_response_id, p.symbol, p.price, "
    "  CAST(extract(epoch FROM p.ts) * 1000000 AS BIGINT), p.provider, p.volume "
    "FROM unnest(CAST(:symbols AS TEXT[])) AS s(symbol) "
    "CROSS JOIN LATERAL (SELECT * FROM price_points WHERE symbol = s.symbol "
    "                    ORDER BY ts DESC, id DESC LIMIT 1) p";

constexpr char kAverages[] =
    "SELECT DISTINCT ON (symbol, window_size) symbol, window_size, value, "
    "  CAST(extract(epoch FROM ts) * 1000000 AS BIGINT), price_point_id "
    "FROM moving_averages WHERE symbol = ANY(CAST(:symbols AS TEXT[])) "
    // Every column descending: the table's one key, walked backwards (windows are put back in
    // ascending order below).
    "ORDER BY symbol DESC, window_size DESC, ts DESC, price_point_id DESC";

constexpr char kBars[] =
    "SELECT DISTINCT ON (symbol, interval_seconds) symbol, interval_seconds, "
    "  CAST(extract(epoch FROM bucket_start) * 1000000 AS BIGINT), open, high, low, close, "
    "  price_count, volume "
    "FROM bars WHERE symbol = ANY(CAST(:symbols AS TEXT[])) "
    "ORDER BY symbol, interval_seconds, bucket_start DESC";

}  // namespace

absl::StatusOr<std::vector<SymbolSnapshot>> PostgresSnapshotStore::Snapshot(
    const std::vector<std::string>& symbols) {
  std::vector<SymbolSnapshot> out;
  absl::Status status = WithSession(db_, "reading a snapshot", [&](Database::Lease& lease) {
    out.clear();
    // Symbols are validated to [A-Z0-9.=^-]: inside quotes none needs escaping.
    std::string list = absl::StrCat(
        "{", absl::StrJoin(symbols, ",", [](std::string* o, const std::string& s) {
          absl::StrAppend(o, "\"", s, "\"");
        }), "}");
    absl::flat_hash_map<std::string, SymbolSnapshot> by_symbol;
    {
      soci::rowset<soci::row> rows = (lease->prepare << kPrices, soci::use(list, "symbols"));
      for (const soci::row& row : rows) {
        SymbolSnapshot snap;
        snap.price.price_point_id = row.get<long long>(0);
        snap.price.raw_response_id =
            row.get_indicator(1) == soci::i_ok ? row.get<long long>(1) : 0;
        snap.symbol = snap.price.quote.symbol = row.get<std::string>(2);
        snap.price.quote.price = row.get<double>(3);
        snap.price.quote.timestamp = absl::FromUnixMicros(row.get<long long>(4));
        snap.price.quote.provider = row.get<std::string>(5);
        if (row.get_indicator(6) == soci::i_ok) snap.price.quote.volume = row.get<double>(6);
        by_symbol.emplace(snap.symbol, std::move(snap));
      }
    }
    {
      soci::rowset<soci::row> rows = (lease->prepare << kAverages, soci::use(list, "symbols"));
      for (const soci::row& row : rows) {
        auto it = by_symbol.find(row.get<std::string>(0));
        if (it == by_symbol.end()) continue;
        AverageRow a;
        a.symbol = it->first;
        a.window = row.get<int>(1);
        a.value = row.get<double>(2);
        a.timestamp = absl::FromUnixMicros(row.get<long long>(3));
        a.price_point_id = row.get<long long>(4);
        it->second.averages.push_back(std::move(a));
      }
      for (auto& [symbol, snapshot] : by_symbol) {
        std::reverse(snapshot.averages.begin(), snapshot.averages.end());
      }
    }
    {
      soci::rowset<soci::row> rows = (lease->prepare << kBars, soci::use(list, "symbols"));
      for (const soci::row& row : rows) {
        auto it = by_symbol.find(row.get<std::string>(0));
        if (it == by_symbol.end()) continue;
        Bar b;
        b.key.symbol = it->first;
        b.key.interval_seconds = row.get<int>(1);
        b.key.start = absl::FromUnixMicros(row.get<long long>(2));
        b.open = row.get<double>(3);
        b.high = row.get<double>(4);
        b.low = row.get<double>(5);
        b.close = row.get<double>(6);
        b.price_count = row.get<long long>(7);
        if (row.get_indicator(8) == soci::i_ok) b.volume = row.get<double>(8);
        it->second.bars.push_back(std::move(b));
      }
    }
    for (const std::string& symbol : symbols) {
      auto it = by_symbol.find(symbol);
      if (it != by_symbol.end()) out.push_back(std::move(it->second));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return out;
}

}  // namespace marketdata
