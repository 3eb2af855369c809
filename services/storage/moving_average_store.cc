#include "services/storage/moving_average_store.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "absl/hash/hash.h"
#include "absl/strings/numbers.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/storage/page_cursor.h"
#include "soci/soci.h"

namespace marketdata {
namespace {

// side 0: before the point, newest first; side 1: after it, oldest first. The plain bounds on ts
// let each side skip the partitions on the other side of the point.
constexpr char kLoadNeighbours[] = R"SQL(
SELECT q.n, p.side, p.id, CAST(extract(epoch FROM p.ts) * 1000000 AS BIGINT), p.price
FROM unnest(CAST(:symbols AS TEXT[]), CAST(:ts AS BIGINT[]), CAST(:ids AS BIGINT[]))
     WITH ORDINALITY AS q(symbol, ts_us, id, n)
CROSS JOIN LATERAL (
    (SELECT 0 AS side, id, ts, price FROM price_points pp
     WHERE pp.symbol = q.symbol
       AND pp.ts <= timestamptz 'epoch' + q.ts_us * interval '1 microsecond'
       AND (pp.ts, pp.id) < (timestamptz 'epoch' + q.ts_us * interval '1 microsecond', q.id)
     ORDER BY pp.ts DESC, pp.id DESC
     LIMIT :limit)
    UNION ALL
    (SELECT 1 AS side, id, ts, price FROM price_points pp
     WHERE pp.symbol = q.symbol
       AND pp.ts >= timestamptz 'epoch' + q.ts_us * interval '1 microsecond'
       AND (pp.ts, pp.id) > (timestamptz 'epoch' + q.ts_us * interval '1 microsecond', q.id)
     ORDER BY pp.ts, pp.id
     LIMIT :limit)) p)SQL";

// Arrays travel as text literals: one statement whatever the batch size (SOCI's vector binding
// would be a round trip per row). %.17g keeps every double exact.
//
// New averages are the rule and rewritten ones (a redelivered or late event) the exception, so a
// batch is first written with a plain INSERT, which checks the key on the way into the index;
// ON CONFLICT would search the index once more for every row. A batch that meets an existing key
// is written again as an upsert.
constexpr PreparedSql kInsertAverages = {"insert_moving_averages", R"SQL(
INSERT INTO moving_averages (symbol, window_size, value, ts, price_point_id)
SELECT s, w, v, timestamptz 'epoch' + t * interval '1 microsecond', p
FROM unnest(CAST($1 AS TEXT[]), CAST($2 AS INTEGER[]), CAST($3 AS DOUBLE PRECISION[]),
            CAST($4 AS BIGINT[]), CAST($5 AS BIGINT[])) AS u(s, w, v, t, p))SQL"};
constexpr PreparedSql kUpsertAverages = {"upsert_moving_averages", R"SQL(
INSERT INTO moving_averages (symbol, window_size, value, ts, price_point_id)
SELECT s, w, v, timestamptz 'epoch' + t * interval '1 microsecond', p
FROM unnest(CAST($1 AS TEXT[]), CAST($2 AS INTEGER[]), CAST($3 AS DOUBLE PRECISION[]),
            CAST($4 AS BIGINT[]), CAST($5 AS BIGINT[])) AS u(s, w, v, t, p)
ON CONFLICT (symbol, window_size, ts, price_point_id)
DO UPDATE SET value = EXCLUDED.value)SQL"};

constexpr char kLatest[] = R"SQL(
SELECT value, CAST(extract(epoch FROM ts) * 1000000 AS BIGINT), price_point_id
FROM moving_averages WHERE symbol = :symbol AND window_size = :window
ORDER BY ts DESC, price_point_id DESC LIMIT 1)SQL";

constexpr char kList[] = R"SQL(
SELECT value, CAST(extract(epoch FROM ts) * 1000000 AS BIGINT), price_point_id
FROM moving_averages
WHERE symbol = :symbol AND window_size = :window
  AND (:has_start = 0 OR ts >= timestamptz 'epoch' + :start_us * interval '1 microsecond')
  AND (:has_end = 0 OR ts < timestamptz 'epoch' + :end_us * interval '1 microsecond')
  AND (:first_page = 1 OR (ts <= timestamptz 'epoch' + :cursor_us * interval '1 microsecond'
                           AND (ts, price_point_id) <
                               (timestamptz 'epoch' + :cursor_us * interval '1 microsecond',
                                :cursor_id)))
ORDER BY ts DESC, price_point_id DESC LIMIT :limit)SQL";

constexpr char kRecentPrices[] = R"SQL(
SELECT id, CAST(extract(epoch FROM ts) * 1000000 AS BIGINT), price
FROM price_points WHERE symbol = :symbol ORDER BY ts DESC, id DESC LIMIT :limit)SQL";

std::string TextArray(const std::vector<std::string>& items) {
  // Symbols are validated to [A-Z0-9.=^-]: nothing to escape inside double quotes.
  return absl::StrCat("{\"", absl::StrJoin(items, "\",\""), "\"}");
}

template <typename T>
std::string NumberArray(const std::vector<T>& items) {
  return absl::StrCat("{", absl::StrJoin(items, ","), "}");
}

std::string DoubleArray(const std::vector<double>& items) {
  return absl::StrCat(
      "{", absl::StrJoin(items, ",", [](std::string* out, double v) {
        absl::StrAppend(out, absl::StrFormat("%.17g", v));
      }),
      "}");
}

}  // namespace

absl::StatusOr<std::vector<Neighbours>> PostgresMovingAverageStore::LoadNeighbours(
    const std::vector<PointRef>& points, size_t limit) {
  std::vector<Neighbours> out(points.size());
  if (points.empty()) return out;
  absl::Status status = WithSession(db_, "loading stored neighbours", [&](Database::Lease& lease) {
    std::vector<std::string> symbols;
    std::vector<long long> ts, ids;
    for (const PointRef& p : points) {
      symbols.push_back(p.symbol);
      ts.push_back(absl::ToUnixMicros(p.timestamp));
      ids.push_back(p.id);
    }
    std::string symbols_text = TextArray(symbols), ts_text = NumberArray(ts),
                ids_text = NumberArray(ids);
    long long limit_value = static_cast<long long>(limit);
    soci::rowset<soci::row> rows =
        (lease->prepare << kLoadNeighbours, soci::use(symbols_text, "symbols"),
         soci::use(ts_text, "ts"), soci::use(ids_text, "ids"), soci::use(limit_value, "limit"));
    for (const soci::row& row : rows) {
      const size_t n = static_cast<size_t>(row.get<long long>(0)) - 1;
      const bool after = row.get<int>(1) == 1;
      (after ? out[n].after : out[n].before)
          .push_back(PricePoint{row.get<long long>(2), absl::FromUnixMicros(row.get<long long>(3)),
                                row.get<double>(4)});
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  for (Neighbours& n : out) std::reverse(n.before.begin(), n.before.end());
  return out;
}

PostgresMovingAverageStore::PostgresMovingAverageStore(Database& db, int write_connections)
    : db_(db), write_connections_(std::max(1, write_connections)) {
  if (write_connections_ > 1) writers_ = std::make_unique<ThreadPool>(write_connections_ - 1);
}

absl::Status PostgresMovingAverageStore::SaveAverages(const std::vector<AverageRow>& rows) {
  if (rows.empty()) return absl::OkStatus();
  // A batch may compute one key twice (a repeated or late event): the last value wins, and
  // ON CONFLICT must not see a key twice in one statement.
  std::map<std::tuple<std::string, int, int64_t>, const AverageRow*> unique;
  for (const AverageRow& r : rows) unique[{r.symbol, r.window, r.price_point_id}] = &r;
  // Small batches (the steady state of a live service) go in one statement; a backlog is split
  // by symbol, so the parts never touch the same keys.
  constexpr size_t kRowsPerPart = 1000;
  const size_t parts =
      std::min<size_t>(write_connections_, (unique.size() + kRowsPerPart - 1) / kRowsPerPart);
  std::vector<std::vector<const AverageRow*>> split(std::max<size_t>(parts, 1));
  for (const auto& [key, r] : unique) {
    split[absl::Hash<std::string>()(r->symbol) % split.size()].push_back(r);
  }
  std::vector<absl::Status> statuses(split.size());
  absl::BlockingCounter others(static_cast<int>(split.size()) - 1);
  for (size_t i = 1; i < split.size(); ++i) {
    writers_->Schedule([this, &split, &statuses, &others, i] {
      statuses[i] = SavePart(split[i]);
      others.DecrementCount();
    });
  }
  statuses[0] = SavePart(split[0]);
  others.Wait();
  for (const absl::Status& s : statuses) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status PostgresMovingAverageStore::SavePart(const std::vector<const AverageRow*>& rows) {
  if (rows.empty()) return absl::OkStatus();
  std::vector<std::string> symbols;
  std::vector<int> windows;
  std::vector<double> values;
  std::vector<long long> ts, ids;
  for (const AverageRow* r : rows) {
    symbols.push_back(r->symbol);
    windows.push_back(r->window);
    values.push_back(r->value);
    ts.push_back(absl::ToUnixMicros(r->timestamp));
    ids.push_back(r->price_point_id);
  }
  const std::vector<std::string> params = {TextArray(symbols), NumberArray(windows),
                                           DoubleArray(values), NumberArray(ts), NumberArray(ids)};
  return WithSession(db_, "saving moving averages", [&](Database::Lease& lease) {
    absl::Status inserted = lease.Execute(kInsertAverages, params, "saving moving averages").status();
    if (!absl::IsAlreadyExists(inserted)) return inserted;
    return lease.Execute(kUpsertAverages, params, "saving moving averages").status();
  });
}

absl::StatusOr<std::optional<AverageRow>> PostgresMovingAverageStore::Latest(
    const std::string& symbol, int window) {
  std::optional<AverageRow> out;
  absl::Status status = WithSession(db_, "reading an average", [&](Database::Lease& lease) {
    soci::rowset<soci::row> rows =
        (lease->prepare << kLatest, soci::use(symbol, "symbol"), soci::use(window, "window"));
    for (const soci::row& row : rows) {
      out = AverageRow{symbol, window, row.get<double>(0),
                       absl::FromUnixMicros(row.get<long long>(1)), row.get<long long>(2)};
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<AveragePage> PostgresMovingAverageStore::List(const AverageQuery& q) {
  PageCursor cursor;
  if (!q.page_token.empty()) {
    absl::StatusOr<PageCursor> decoded = DecodePageCursor(q.page_token);
    if (!decoded.ok()) return decoded.status();
    cursor = *decoded;
  }
  AveragePage page;
  absl::Status status = WithSession(db_, "listing averages", [&](Database::Lease& lease) {
    int has_start = q.start.has_value() ? 1 : 0, has_end = q.end.has_value() ? 1 : 0;
    long long start_us = q.start.has_value() ? absl::ToUnixMicros(*q.start) : 0;
    long long end_us = q.end.has_value() ? absl::ToUnixMicros(*q.end) : 0;
    int first_page = q.page_token.empty() ? 1 : 0;
    int fetch = q.limit + 1;
    soci::rowset<soci::row> rows =
        (lease->prepare << kList, soci::use(q.symbol, "symbol"), soci::use(q.window, "window"),
         soci::use(has_start, "has_start"), soci::use(start_us, "start_us"),
         soci::use(has_end, "has_end"), soci::use(end_us, "end_us"),
         soci::use(first_page, "first_page"), soci::use(cursor.micros, "cursor_us"),
         soci::use(cursor.id, "cursor_id"), soci::use(fetch, "limit"));
    for (const soci::row& row : rows) {
      page.averages.push_back(AverageRow{q.symbol, q.window, row.get<double>(0),
                                         absl::FromUnixMicros(row.get<long long>(1)),
                                         row.get<long long>(2)});
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (static_cast<int>(page.averages.size()) > q.limit) {
    page.averages.resize(q.limit);
    const AverageRow& last = page.averages.back();
    page.next_page_token = EncodePageCursor(last.timestamp, last.price_point_id);
  }
  return page;
}

absl::StatusOr<std::vector<PricePoint>> PostgresMovingAverageStore::RecentPrices(
    const std::string& symbol, int limit) {
  std::vector<PricePoint> out;
  absl::Status status = WithSession(db_, "reading recent prices", [&](Database::Lease& lease) {
    soci::rowset<soci::row> rows =
        (lease->prepare << kRecentPrices, soci::use(symbol, "symbol"), soci::use(limit, "limit"));
    for (const soci::row& row : rows) {
      out.push_back(PricePoint{row.get<long long>(0), absl::FromUnixMicros(row.get<long long>(1)),
                               row.get<double>(2)});
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return out;
}

}  // namespace marketdata
