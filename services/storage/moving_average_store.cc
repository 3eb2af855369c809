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

namespace marketdata {
namespace {

// side 0: before the point, newest first; side 1: after it, oldest first. The plain bounds on ts
// let each side skip the partitions on the other side of the point.
constexpr PreparedSql kLoadNeighbours = {"load_neighbours", R"SQL(
SELECT q.n, p.side, p.id, p.ts, p.price
FROM unnest(CAST($1 AS TEXT[]), CAST($2 AS TIMESTAMPTZ[]), CAST($3 AS BIGINT[]))
     WITH ORDINALITY AS q(symbol, ts, id, n)
CROSS JOIN LATERAL (
    (SELECT 0 AS side, id, ts, price FROM price_points pp
     WHERE pp.symbol = q.symbol AND pp.ts <= q.ts AND (pp.ts, pp.id) < (q.ts, q.id)
     ORDER BY pp.ts DESC, pp.id DESC
     LIMIT CAST($4 AS INT))
    UNION ALL
    (SELECT 1 AS side, id, ts, price FROM price_points pp
     WHERE pp.symbol = q.symbol AND pp.ts >= q.ts AND (pp.ts, pp.id) > (q.ts, q.id)
     ORDER BY pp.ts, pp.id
     LIMIT CAST($4 AS INT))) p)SQL"};

// One statement whatever the batch size.
//
// New averages are the rule and rewritten ones (a redelivered or late event) the exception, so a
// batch is first written with a plain INSERT, which checks the key on the way into the index;
// ON CONFLICT would search the index once more for every row. A batch that meets an existing key
// is written again as an upsert.
constexpr PreparedSql kInsertAverages = {"insert_moving_averages", R"SQL(
INSERT INTO moving_averages (symbol, window_size, value, ts, price_point_id)
SELECT s, w, v, t, p
FROM unnest(CAST($1 AS TEXT[]), CAST($2 AS INTEGER[]), CAST($3 AS DOUBLE PRECISION[]),
            CAST($4 AS TIMESTAMPTZ[]), CAST($5 AS BIGINT[])) AS u(s, w, v, t, p))SQL"};
constexpr PreparedSql kUpsertAverages = {"upsert_moving_averages", R"SQL(
INSERT INTO moving_averages (symbol, window_size, value, ts, price_point_id)
SELECT s, w, v, t, p
FROM unnest(CAST($1 AS TEXT[]), CAST($2 AS INTEGER[]), CAST($3 AS DOUBLE PRECISION[]),
            CAST($4 AS TIMESTAMPTZ[]), CAST($5 AS BIGINT[])) AS u(s, w, v, t, p)
ON CONFLICT (symbol, window_size, ts, price_point_id)
DO UPDATE SET value = EXCLUDED.value)SQL"};

constexpr PreparedSql kLatest = {"latest_average", R"SQL(
SELECT value, ts, price_point_id
FROM moving_averages WHERE symbol = $1 AND window_size = CAST($2 AS INT)
ORDER BY ts DESC, price_point_id DESC LIMIT 1)SQL"};

// NULL bounds are absent ones; a later page's row bound comes with a plain bound on ts, which
// prunes partitions.
constexpr PreparedSql kList = {"list_averages", R"SQL(
SELECT value, ts, price_point_id
FROM moving_averages
WHERE symbol = $1 AND window_size = CAST($2 AS INT)
  AND (CAST($3 AS TIMESTAMPTZ) IS NULL OR ts >= CAST($3 AS TIMESTAMPTZ))
  AND (CAST($4 AS TIMESTAMPTZ) IS NULL OR ts < CAST($4 AS TIMESTAMPTZ))
  AND (CAST($5 AS TIMESTAMPTZ) IS NULL
       OR (ts <= CAST($5 AS TIMESTAMPTZ)
           AND (ts, price_point_id) < (CAST($5 AS TIMESTAMPTZ), CAST($6 AS BIGINT))))
ORDER BY ts DESC, price_point_id DESC LIMIT CAST($7 AS INT))SQL"};

constexpr PreparedSql kRecentPrices = {"recent_prices", R"SQL(
SELECT id, ts, price
FROM price_points WHERE symbol = $1 ORDER BY ts DESC, id DESC LIMIT CAST($2 AS INT))SQL"};

}  // namespace

absl::StatusOr<std::vector<Neighbours>> PostgresMovingAverageStore::LoadNeighbours(
    const std::vector<PointRef>& points, size_t limit) {
  std::vector<Neighbours> out(points.size());
  if (points.empty()) return out;
  std::vector<std::string> symbols;
  std::vector<absl::Time> times;
  std::vector<int64_t> ids;
  for (const PointRef& p : points) {
    symbols.push_back(p.symbol);
    times.push_back(p.timestamp);
    ids.push_back(p.id);
  }
  absl::StatusOr<PgResult> rows = RunStatement(
      db_, kLoadNeighbours,
      SqlParams().TextArray(symbols).TimeArray(times).IntArray(ids).Int(
          static_cast<int64_t>(limit)),
      "loading stored neighbours");
  if (!rows.ok()) return rows.status();
  for (int r = 0; r < rows->rows(); ++r) {
    const size_t n = static_cast<size_t>(rows->int64(r, 0)) - 1;
    if (n >= out.size()) continue;
    const bool after = rows->int64(r, 1) == 1;
    (after ? out[n].after : out[n].before)
        .push_back(PricePoint{rows->int64(r, 2), rows->time(r, 3), rows->float64(r, 4)});
  }
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
  std::vector<int64_t> windows, ids;
  std::vector<double> values;
  std::vector<absl::Time> times;
  for (const AverageRow* r : rows) {
    symbols.push_back(r->symbol);
    windows.push_back(r->window);
    values.push_back(r->value);
    times.push_back(r->timestamp);
    ids.push_back(r->price_point_id);
  }
  SqlParams params;
  params.TextArray(symbols).IntArray(windows).FloatArray(values).TimeArray(times).IntArray(ids);
  constexpr absl::string_view kWhat = "saving moving averages";
  absl::StatusOr<Database::Lease> lease = db_.Acquire();
  if (!lease.ok()) return lease.status();
  absl::Status inserted = lease->Run(kInsertAverages, params, kWhat).status();
  if (!absl::IsAlreadyExists(inserted)) return inserted;
  return lease->Run(kUpsertAverages, params, kWhat).status();
}

absl::StatusOr<std::optional<AverageRow>> PostgresMovingAverageStore::Latest(
    const std::string& symbol, int window) {
  absl::StatusOr<PgResult> rows = RunStatement(db_, kLatest, SqlParams().Text(symbol).Int(window),
                                               "reading an average");
  if (!rows.ok()) return rows.status();
  if (rows->rows() == 0) return std::nullopt;
  return AverageRow{symbol, window, rows->float64(0, 0), rows->time(0, 1), rows->int64(0, 2)};
}

absl::StatusOr<AveragePage> PostgresMovingAverageStore::List(const AverageQuery& q) {
  SqlParams params;
  params.Text(q.symbol).Int(q.window);
  params.OptionalTime(q.start).OptionalTime(q.end);
  if (absl::Status s = AddPageCursor(q.page_token, params); !s.ok()) return s;
  params.Int(q.limit + 1);
  absl::StatusOr<PgResult> rows = RunStatement(db_, kList, params, "listing averages");
  if (!rows.ok()) return rows.status();
  AveragePage page;
  for (int r = 0; r < rows->rows(); ++r) {
    page.averages.push_back(
        AverageRow{q.symbol, q.window, rows->float64(r, 0), rows->time(r, 1), rows->int64(r, 2)});
  }
  if (static_cast<int>(page.averages.size()) > q.limit) {
    page.averages.resize(q.limit);
    const AverageRow& last = page.averages.back();
    page.next_page_token = EncodePageCursor(last.timestamp, last.price_point_id);
  }
  return page;
}

absl::StatusOr<std::vector<PricePoint>> PostgresMovingAverageStore::RecentPrices(
    const std::string& symbol, int limit) {
  absl::StatusOr<PgResult> rows = RunStatement(
      db_, kRecentPrices, SqlParams().Text(symbol).Int(limit), "reading recent prices");
  if (!rows.ok()) return rows.status();
  std::vector<PricePoint> out;
  for (int r = 0; r < rows->rows(); ++r) {
    out.push_back(PricePoint{rows->int64(r, 0), rows->time(r, 1), rows->float64(r, 2)});
  }
  return out;
}

}  // namespace marketdata
