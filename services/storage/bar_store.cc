#include "services/storage/bar_store.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "services/storage/page_cursor.h"
#include "soci/soci.h"

namespace marketdata {
namespace {

// Every query returns the columns in this order; ReadBar reads them.
#define BAR_COLUMNS                                                                     \
  "symbol, interval_seconds, CAST(extract(epoch FROM bucket_start) * 1000000 AS BIGINT), " \
  "open, high, low, close, price_count, volume, "                                      \
  "CAST(extract(epoch FROM open_ts) * 1000000 AS BIGINT), open_id, "                    \
  "CAST(extract(epoch FROM close_ts) * 1000000 AS BIGINT), close_id, max_id"

// The keys of a batch as three arrays ($1 symbols, $2 intervals, $3 bucket starts in epoch
// microseconds).
#define KEYS                                                                           \
  "unnest(CAST($1 AS TEXT[]), CAST($2 AS INT[]), CAST($3 AS BIGINT[])) " \
  "AS k(symbol, secs, start_us)"

// Every statement is prepared once per connection: the consumer runs the lock and the upsert for
// every batch, and parsing and planning them each time cost PostgreSQL more than running them.
constexpr PreparedSql kLock = {"lock_bars",
    "SELECT " BAR_COLUMNS " FROM bars WHERE (symbol, interval_seconds, bucket_start) IN ("
    "  SELECT k.symbol, k.secs, timestamptz 'epoch' + k.start_us * interval '1 microsecond' "
    "  FROM " KEYS ") "
    "ORDER BY symbol, interval_seconds, bucket_start FOR UPDATE"};

// The definition, over price_points: open and close by (ts, id), counting the prices up to an
// id (BarPlan::recompute_through, $4).
constexpr PreparedSql kRecompute = {"recompute_bars",
    "SELECT k.symbol, k.secs, k.start_us, "
    "  (array_agg(p.price ORDER BY p.ts, p.id))[1], max(p.price), min(p.price), "
    "  (array_agg(p.price ORDER BY p.ts DESC, p.id DESC))[1], count(*), sum(p.volume), "
    "  CAST(extract(epoch FROM min(p.ts)) * 1000000 AS BIGINT), "
    "  (array_agg(p.id ORDER BY p.ts, p.id))[1], "
    "  CAST(extract(epoch FROM max(p.ts)) * 1000000 AS BIGINT), "
    "  (array_agg(p.id ORDER BY p.ts DESC, p.id DESC))[1], max(p.id) "
    "FROM unnest(CAST($1 AS TEXT[]), CAST($2 AS INT[]), CAST($3 AS BIGINT[]), "
    "            CAST($4 AS BIGINT[])) AS k(symbol, secs, start_us, through) "
    "JOIN price_points p ON p.symbol = k.symbol AND p.id <= k.through "
    "  AND p.ts >= timestamptz 'epoch' + k.start_us * interval '1 microsecond' "
    "  AND p.ts < timestamptz 'epoch' + (k.start_us + k.secs * CAST(1000000 AS BIGINT)) "
    "                                   * interval '1 microsecond' "
    "GROUP BY k.symbol, k.secs, k.start_us"};

// A bar of an interval that is a multiple of `base` ($4) from the stored bars of `base` it spans
// (written first, in the same transaction): far fewer rows than its prices. Exact, since the
// buckets of both are aligned to the epoch: open and close by (ts, id) across the sub-bars.
constexpr PreparedSql kRollUp = {"roll_up_bars",
    "SELECT k.symbol, k.secs, k.start_us, "
    "  (array_agg(b.open ORDER BY b.open_ts, b.open_id))[1], max(b.high), min(b.low), "
    "  (array_agg(b.close ORDER BY b.close_ts DESC, b.close_id DESC))[1], "
    "  CAST(sum(b.price_count) AS BIGINT), sum(b.volume), "
    "  CAST(extract(epoch FROM min(b.open_ts)) * 1000000 AS BIGINT), "
    "  (array_agg(b.open_id ORDER BY b.open_ts, b.open_id))[1], "
    "  CAST(extract(epoch FROM max(b.close_ts)) * 1000000 AS BIGINT), "
    "  (array_agg(b.close_id ORDER BY b.close_ts DESC, b.close_id DESC))[1], max(b.max_id) "
    "FROM " KEYS " JOIN bars b ON b.symbol = k.symbol AND b.interval_seconds = CAST($4 AS INT) "
    "  AND b.bucket_start >= timestamptz 'epoch' + k.start_us * interval '1 microsecond' "
    "  AND b.bucket_start < timestamptz 'epoch' + (k.start_us + k.secs * CAST(1000000 AS BIGINT)) "
    "                                             * interval '1 microsecond' "
    "GROUP BY k.symbol, k.secs, k.start_us"};

constexpr PreparedSql kUpsert = {"upsert_bars",
    "INSERT INTO bars (symbol, interval_seconds, bucket_start, open, high, low, close, "
    "  price_count, volume, open_ts, open_id, close_ts, close_id, max_id) "
    "SELECT symbol, secs, timestamptz 'epoch' + start_us * interval '1 microsecond', "
    "  open, high, low, close, n, volume, "
    "  timestamptz 'epoch' + open_us * interval '1 microsecond', open_id, "
    "  timestamptz 'epoch' + close_us * interval '1 microsecond', close_id, max_id "
    "FROM unnest(CAST($1 AS TEXT[]), CAST($2 AS INT[]), CAST($3 AS BIGINT[]), "
    "  CAST($4 AS DOUBLE PRECISION[]), CAST($5 AS DOUBLE PRECISION[]), "
    "  CAST($6 AS DOUBLE PRECISION[]), CAST($7 AS DOUBLE PRECISION[]), "
    "  CAST($8 AS BIGINT[]), CAST($9 AS DOUBLE PRECISION[]), "
    "  CAST($10 AS BIGINT[]), CAST($11 AS BIGINT[]), CAST($12 AS BIGINT[]), "
    "  CAST($13 AS BIGINT[]), CAST($14 AS BIGINT[])) "
    "  AS u(symbol, secs, start_us, open, high, low, close, n, volume, open_us, open_id, "
    "       close_us, close_id, max_id) "
    "ON CONFLICT (symbol, interval_seconds, bucket_start) DO UPDATE SET "
    "  open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close, "
    "  price_count = EXCLUDED.price_count, volume = EXCLUDED.volume, "
    "  open_ts = EXCLUDED.open_ts, open_id = EXCLUDED.open_id, close_ts = EXCLUDED.close_ts, "
    "  close_id = EXCLUDED.close_id, max_id = EXCLUDED.max_id"};

// $1 symbol, $2 interval, $3/$4 has a start and the start, $5/$6 has an end and the end,
// $7/$8 first page or the cursor, $9 rows to fetch.
constexpr PreparedSql kList = {"list_bars",
    "SELECT " BAR_COLUMNS " FROM bars "
    "WHERE symbol = $1 AND interval_seconds = CAST($2 AS INT) "
    "  AND (CAST($3 AS INT) = 0 "
    "       OR bucket_start >= timestamptz 'epoch' + CAST($4 AS BIGINT) * interval '1 microsecond') "
    "  AND (CAST($5 AS INT) = 0 "
    "       OR bucket_start < timestamptz 'epoch' + CAST($6 AS BIGINT) * interval '1 microsecond') "
    "  AND (CAST($7 AS INT) = 1 "
    "       OR bucket_start < timestamptz 'epoch' + CAST($8 AS BIGINT) * interval '1 microsecond') "
    "ORDER BY bucket_start DESC LIMIT CAST($9 AS INT)"};

#undef BAR_COLUMNS
#undef KEYS

Bar ReadBar(const PgResult& r, int row) {
  Bar bar;
  bar.key.symbol = std::string(r.text(row, 0));
  bar.key.interval_seconds = static_cast<int>(r.int64(row, 1));
  bar.key.start = absl::FromUnixMicros(r.int64(row, 2));
  bar.open = r.float64(row, 3);
  bar.high = r.float64(row, 4);
  bar.low = r.float64(row, 5);
  bar.close = r.float64(row, 6);
  bar.price_count = r.int64(row, 7);
  if (!r.null(row, 8)) bar.volume = r.float64(row, 8);
  bar.open_ts = absl::FromUnixMicros(r.int64(row, 9));
  bar.open_id = r.int64(row, 10);
  bar.close_ts = absl::FromUnixMicros(r.int64(row, 11));
  bar.close_id = r.int64(row, 12);
  bar.max_id = r.int64(row, 13);
  return bar;
}

// Runs `statement` and appends the bars it returns to `out`.
absl::Status ReadBars(Database::Lease& lease, const PreparedSql& statement,
                      const std::vector<std::string>& params, std::vector<Bar>& out) {
  absl::StatusOr<PgResult> rows = lease.Execute(statement, params, "reading bars");
  if (!rows.ok()) return rows.status();
  for (int i = 0; i < rows->rows(); ++i) out.push_back(ReadBar(*rows, i));
  return absl::OkStatus();
}

// A PostgreSQL array literal of the values `f` gives for `items`.
template <typename T, typename F>
std::string Array(const std::vector<T>& items, F f) {
  return absl::StrCat("{", absl::StrJoin(items, ",", [&](std::string* out, const T& item) {
                        absl::StrAppend(out, f(item));
                      }),
                      "}");
}

std::string Double(double v) { return absl::StrFormat("%.17g", v); }

// Symbols are validated to [A-Z0-9.=^-]: inside quotes none needs escaping.
std::string Quoted(const std::string& s) { return absl::StrCat("\"", s, "\""); }

// The keys as the first three parameters of a statement (see KEYS).
std::vector<std::string> KeyParams(const std::vector<BarKey>& keys) {
  return {Array(keys, [](const BarKey& k) { return Quoted(k.symbol); }),
          Array(keys, [](const BarKey& k) { return absl::StrCat(k.interval_seconds); }),
          Array(keys, [](const BarKey& k) { return absl::StrCat(absl::ToUnixMicros(k.start)); })};
}

// Upserts `bars` (nothing for none).
absl::Status Write(Database::Lease& lease, const std::vector<Bar>& bars) {
  if (bars.empty()) return absl::OkStatus();
  std::vector<std::string> params = KeyParams([&] {
    std::vector<BarKey> out;
    for (const Bar& b : bars) out.push_back(b.key);
    return out;
  }());
  params.push_back(Array(bars, [](const Bar& b) { return Double(b.open); }));
  params.push_back(Array(bars, [](const Bar& b) { return Double(b.high); }));
  params.push_back(Array(bars, [](const Bar& b) { return Double(b.low); }));
  params.push_back(Array(bars, [](const Bar& b) { return Double(b.close); }));
  params.push_back(Array(bars, [](const Bar& b) { return absl::StrCat(b.price_count); }));
  params.push_back(Array(bars, [](const Bar& b) {
    return b.volume.has_value() ? Double(*b.volume) : std::string("NULL");
  }));
  params.push_back(
      Array(bars, [](const Bar& b) { return absl::StrCat(absl::ToUnixMicros(b.open_ts)); }));
  params.push_back(Array(bars, [](const Bar& b) { return absl::StrCat(b.open_id); }));
  params.push_back(
      Array(bars, [](const Bar& b) { return absl::StrCat(absl::ToUnixMicros(b.close_ts)); }));
  params.push_back(Array(bars, [](const Bar& b) { return absl::StrCat(b.close_id); }));
  params.push_back(Array(bars, [](const Bar& b) { return absl::StrCat(b.max_id); }));
  return lease.Execute(kUpsert, params, "writing bars").status();
}

}  // namespace

absl::StatusOr<std::vector<Bar>> PostgresBarStore::Update(const std::vector<BarKey>& keys,
                                                          const Planner& plan) {
  std::vector<Bar> written;
  absl::Status status = WithSession(db_, "writing bars", [&](Database::Lease& lease) {
    written.clear();
    soci::transaction tx(lease.session());
    absl::flat_hash_map<BarKey, Bar> current;
    {
      std::vector<Bar> stored;
      if (absl::Status s = ReadBars(lease, kLock, KeyParams(keys), stored); !s.ok()) return s;
      for (Bar& bar : stored) current.emplace(bar.key, std::move(bar));
    }
    BarPlan planned = plan(current);
    // The bars of the smallest interval first (recomputed from price_points where planned);
    // then the others, recomputed by rolling those up where the interval allows.
    int base = 0;
    for (const BarKey& key : keys) {
      if (base == 0 || key.interval_seconds < base) base = key.interval_seconds;
    }
    std::vector<BarKey> from_prices, rolled_up;
    std::vector<int64_t> through;
    for (size_t i = 0; i < planned.recompute.size(); ++i) {
      BarKey& key = planned.recompute[i];
      if (key.interval_seconds != base && key.interval_seconds % base == 0) {
        rolled_up.push_back(std::move(key));
      } else {
        from_prices.push_back(std::move(key));
        through.push_back(i < planned.recompute_through.size()
                              ? planned.recompute_through[i]
                              : std::numeric_limits<int64_t>::max());
      }
    }
    std::vector<Bar> first, later;
    for (Bar& bar : planned.updated) {
      (bar.key.interval_seconds == base ? first : later).push_back(std::move(bar));
    }
    if (!from_prices.empty()) {
      std::vector<std::string> params = KeyParams(from_prices);
      params.push_back(Array(through, [](int64_t id) { return absl::StrCat(id); }));
      std::vector<Bar> recomputed;
      if (absl::Status s = ReadBars(lease, kRecompute, params, recomputed); !s.ok()) return s;
      for (Bar& bar : recomputed) {
        (bar.key.interval_seconds == base ? first : later).push_back(std::move(bar));
      }
    }
    if (absl::Status s = Write(lease, first); !s.ok()) return s;
    if (!rolled_up.empty()) {
      std::vector<std::string> params = KeyParams(rolled_up);
      params.push_back(absl::StrCat(base));
      if (absl::Status s = ReadBars(lease, kRollUp, params, later); !s.ok()) return s;
    }
    if (absl::Status s = Write(lease, later); !s.ok()) return s;
    written = std::move(first);
    written.insert(written.end(), std::make_move_iterator(later.begin()),
                   std::make_move_iterator(later.end()));
    tx.commit();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return written;
}

absl::StatusOr<BarPage> PostgresBarStore::List(const BarQuery& query) {
  PageCursor cursor;
  if (!query.page_token.empty()) {
    absl::StatusOr<PageCursor> decoded = DecodePageCursor(query.page_token);
    if (!decoded.ok()) return decoded.status();
    cursor = *decoded;
  }
  BarPage page;
  absl::Status status = WithSession(db_, "reading bars", [&](Database::Lease& lease) {
    const std::vector<std::string> params = {
        query.symbol,
        absl::StrCat(query.interval_seconds),
        query.start.has_value() ? "1" : "0",
        absl::StrCat(query.start ? absl::ToUnixMicros(*query.start) : 0),
        query.end.has_value() ? "1" : "0",
        absl::StrCat(query.end ? absl::ToUnixMicros(*query.end) : 0),
        query.page_token.empty() ? "1" : "0",
        absl::StrCat(cursor.micros),
        absl::StrCat(query.limit + 1)};
    return ReadBars(lease, kList, params, page.bars);
  });
  if (!status.ok()) return status;
  if (static_cast<int>(page.bars.size()) > query.limit) {
    page.bars.resize(query.limit);
    page.next_page_token = EncodePageCursor(page.bars.back().key.start, 0);
  }
  return page;
}

}  // namespace marketdata
