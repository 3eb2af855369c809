#include "services/storage/bar_store.h"

#include <utility>

#include "services/bars/roll_up.h"
#include "services/storage/page_cursor.h"

namespace marketdata {
namespace {

// Every query returns the columns in this order; ReadBar reads them.
#define BAR_COLUMNS                                                                          \
  "symbol, interval_seconds, bucket_start, open, high, low, close, price_count, volume, " \
  "open_ts, open_id, close_ts, close_id, max_id"

// The keys of a batch as three arrays: $1 symbols, $2 intervals, $3 bucket starts.
#define KEYS                                                                              \
  "unnest(CAST($1 AS TEXT[]), CAST($2 AS INT[]), CAST($3 AS TIMESTAMPTZ[])) " \
  "AS k(symbol, secs, start)"

// Every statement is prepared once per connection: the consumer runs the lock and the upsert for
// every batch, and parsing and planning them each time cost PostgreSQL more than running them.
// A bar's key is locked before its row is read: FOR UPDATE below holds only rows that exist, so
// two writers of a bar not stored yet would both plan it from nothing and one upsert would
// overwrite the other's prices. Transaction-scoped advisory locks, in key order (no deadlock
// between two batches), in their own key space (two int4 keys; the migrations' lock is one
// bigint). A hash collision only makes two keys wait for each other.
constexpr PreparedSql kLockKeys = {"lock_bar_keys",
    "SELECT count(pg_advisory_xact_lock(7243592, hashtext("
    "  k.symbol || '/' || k.secs || '/' || extract(epoch FROM k.start)))) "
    "FROM (SELECT * FROM " KEYS " ORDER BY 1, 2, 3) AS k"};

constexpr PreparedSql kLock = {"lock_bars",
    "SELECT " BAR_COLUMNS " FROM bars WHERE (symbol, interval_seconds, bucket_start) IN ("
    "  SELECT k.symbol, k.secs, k.start FROM " KEYS ") "
    "ORDER BY symbol, interval_seconds, bucket_start FOR UPDATE"};

// The definition, over price_points: open and close by (ts, id), counting the prices up to an
// id (BarPlan::recompute_through, $4).
constexpr PreparedSql kRecompute = {"recompute_bars",
    "SELECT k.symbol, k.secs, k.start, "
    "  (array_agg(p.price ORDER BY p.ts, p.id))[1], max(p.price), min(p.price), "
    "  (array_agg(p.price ORDER BY p.ts DESC, p.id DESC))[1], count(*), sum(p.volume), "
    "  min(p.ts), (array_agg(p.id ORDER BY p.ts, p.id))[1], "
    "  max(p.ts), (array_agg(p.id ORDER BY p.ts DESC, p.id DESC))[1], max(p.id) "
    "FROM unnest(CAST($1 AS TEXT[]), CAST($2 AS INT[]), CAST($3 AS TIMESTAMPTZ[]), "
    "            CAST($4 AS BIGINT[])) AS k(symbol, secs, start, through) "
    "JOIN price_points p ON p.symbol = k.symbol AND p.id <= k.through "
    "  AND p.ts >= k.start AND p.ts < k.start + k.secs * interval '1 second' "
    "GROUP BY k.symbol, k.secs, k.start"};

// A bar of an interval that is a multiple of `base` ($4) from the stored bars of `base` it spans
// (written first, in the same transaction). Open and close by (ts, id) across the sub-bars.
constexpr PreparedSql kRollUp = {"roll_up_bars",
    "SELECT k.symbol, k.secs, k.start, "
    "  (array_agg(b.open ORDER BY b.open_ts, b.open_id))[1], max(b.high), min(b.low), "
    "  (array_agg(b.close ORDER BY b.close_ts DESC, b.close_id DESC))[1], "
    "  CAST(sum(b.price_count) AS BIGINT), sum(b.volume), "
    "  min(b.open_ts), (array_agg(b.open_id ORDER BY b.open_ts, b.open_id))[1], "
    "  max(b.close_ts), (array_agg(b.close_id ORDER BY b.close_ts DESC, b.close_id DESC))[1], "
    "  max(b.max_id) "
    "FROM " KEYS " JOIN bars b ON b.symbol = k.symbol AND b.interval_seconds = CAST($4 AS INT) "
    "  AND b.bucket_start >= k.start AND b.bucket_start < k.start + k.secs * interval '1 second' "
    "GROUP BY k.symbol, k.secs, k.start"};

// Bars as rows: the parameters BarRows() makes.
#define BAR_ROWS                                                                           \
  "INSERT INTO bars AS b (" BAR_COLUMNS ") "                                               \
  "SELECT * FROM unnest(CAST($1 AS TEXT[]), CAST($2 AS INT[]), CAST($3 AS TIMESTAMPTZ[]), " \
  "  CAST($4 AS DOUBLE PRECISION[]), CAST($5 AS DOUBLE PRECISION[]), "                      \
  "  CAST($6 AS DOUBLE PRECISION[]), CAST($7 AS DOUBLE PRECISION[]), "                      \
  "  CAST($8 AS BIGINT[]), CAST($9 AS DOUBLE PRECISION[]), "                                \
  "  CAST($10 AS TIMESTAMPTZ[]), CAST($11 AS BIGINT[]), CAST($12 AS TIMESTAMPTZ[]), "       \
  "  CAST($13 AS BIGINT[]), CAST($14 AS BIGINT[])) "

// Bars whose rows the transaction holds (read FOR UPDATE above).
constexpr PreparedSql kUpsert = {"upsert_bars",
    BAR_ROWS
    "ON CONFLICT (symbol, interval_seconds, bucket_start) DO UPDATE SET "
    "  open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close, "
    "  price_count = EXCLUDED.price_count, volume = EXCLUDED.volume, "
    "  open_ts = EXCLUDED.open_ts, open_id = EXCLUDED.open_id, close_ts = EXCLUDED.close_ts, "
    "  close_id = EXCLUDED.close_id, max_id = EXCLUDED.max_id"};

// Bars planned from no row: a row another writer merged meanwhile is left alone, and the count
// of rows inserted tells.
constexpr PreparedSql kInsertNew = {"insert_new_bars",
    BAR_ROWS "ON CONFLICT (symbol, interval_seconds, bucket_start) DO NOTHING RETURNING 1"};

// Deltas (PlanDeltas) merged into the stored bars as MergeBars does, where the stored bar counts
// none of the delta's prices. Every expression reads the row as it was (b).
constexpr PreparedSql kMerge = {"merge_bars",
    BAR_ROWS
    "ON CONFLICT (symbol, interval_seconds, bucket_start) DO UPDATE SET "
    "  open = CASE WHEN (EXCLUDED.open_ts, EXCLUDED.open_id) < (b.open_ts, b.open_id) "
    "    THEN EXCLUDED.open ELSE b.open END, "
    "  open_ts = CASE WHEN (EXCLUDED.open_ts, EXCLUDED.open_id) < (b.open_ts, b.open_id) "
    "    THEN EXCLUDED.open_ts ELSE b.open_ts END, "
    "  open_id = CASE WHEN (EXCLUDED.open_ts, EXCLUDED.open_id) < (b.open_ts, b.open_id) "
    "    THEN EXCLUDED.open_id ELSE b.open_id END, "
    "  close = CASE WHEN (b.close_ts, b.close_id) < (EXCLUDED.close_ts, EXCLUDED.close_id) "
    "    THEN EXCLUDED.close ELSE b.close END, "
    "  close_ts = CASE WHEN (b.close_ts, b.close_id) < (EXCLUDED.close_ts, EXCLUDED.close_id) "
    "    THEN EXCLUDED.close_ts ELSE b.close_ts END, "
    "  close_id = CASE WHEN (b.close_ts, b.close_id) < (EXCLUDED.close_ts, EXCLUDED.close_id) "
    "    THEN EXCLUDED.close_id ELSE b.close_id END, "
    "  high = greatest(b.high, EXCLUDED.high), low = least(b.low, EXCLUDED.low), "
    "  price_count = b.price_count + EXCLUDED.price_count, "
    "  volume = CASE WHEN EXCLUDED.volume IS NULL THEN b.volume "
    "    ELSE coalesce(b.volume, 0) + EXCLUDED.volume END, "
    "  max_id = greatest(b.max_id, EXCLUDED.max_id) "
    "WHERE b.max_id < EXCLUDED.open_id "
    "RETURNING " BAR_COLUMNS};

// $1 symbol, $2 interval, $3 start, $4 end, $5 the cursor (NULL: absent), $6 rows to fetch.
constexpr PreparedSql kList = {"list_bars",
    "SELECT " BAR_COLUMNS " FROM bars "
    "WHERE symbol = $1 AND interval_seconds = CAST($2 AS INT) "
    "  AND (CAST($3 AS TIMESTAMPTZ) IS NULL OR bucket_start >= CAST($3 AS TIMESTAMPTZ)) "
    "  AND (CAST($4 AS TIMESTAMPTZ) IS NULL OR bucket_start < CAST($4 AS TIMESTAMPTZ)) "
    "  AND (CAST($5 AS TIMESTAMPTZ) IS NULL OR bucket_start < CAST($5 AS TIMESTAMPTZ)) "
    "ORDER BY bucket_start DESC LIMIT CAST($6 AS INT)"};

#undef BAR_COLUMNS
#undef BAR_ROWS
#undef KEYS

Bar ReadBar(const PgResult& r, int row) {
  Bar bar;
  bar.key.symbol = std::string(r.text(row, 0));
  bar.key.interval_seconds = static_cast<int>(r.int64(row, 1));
  bar.key.start = r.time(row, 2);
  bar.open = r.float64(row, 3);
  bar.high = r.float64(row, 4);
  bar.low = r.float64(row, 5);
  bar.close = r.float64(row, 6);
  bar.price_count = r.int64(row, 7);
  bar.volume = r.optional_float64(row, 8);
  bar.open_ts = r.time(row, 9);
  bar.open_id = r.int64(row, 10);
  bar.close_ts = r.time(row, 11);
  bar.close_id = r.int64(row, 12);
  bar.max_id = r.int64(row, 13);
  return bar;
}

// Runs `statement` and appends the bars it returns to `out`.
absl::Status ReadBars(Database::Lease& lease, const PreparedSql& statement,
                      const SqlParams& params, std::vector<Bar>& out) {
  absl::StatusOr<PgResult> rows = lease.Run(statement, params, "reading bars");
  if (!rows.ok()) return rows.status();
  for (int i = 0; i < rows->rows(); ++i) out.push_back(ReadBar(*rows, i));
  return absl::OkStatus();
}

// The keys as the first three parameters of a statement (see KEYS).
SqlParams KeyParams(const std::vector<BarKey>& keys) {
  std::vector<std::string> symbols;
  std::vector<int64_t> intervals;
  std::vector<absl::Time> starts;
  for (const BarKey& k : keys) {
    symbols.push_back(k.symbol);
    intervals.push_back(k.interval_seconds);
    starts.push_back(k.start);
  }
  SqlParams params;
  params.TextArray(symbols).IntArray(intervals).TimeArray(starts);
  return params;
}

// `bars` as the parameters of BAR_ROWS.
SqlParams BarRows(const std::vector<Bar>& bars) {
  std::vector<BarKey> keys;
  std::vector<double> open, high, low, close;
  std::vector<int64_t> count, open_id, close_id, max_id;
  std::vector<std::optional<double>> volume;
  std::vector<absl::Time> open_ts, close_ts;
  for (const Bar& b : bars) {
    keys.push_back(b.key);
    open.push_back(b.open);
    high.push_back(b.high);
    low.push_back(b.low);
    close.push_back(b.close);
    count.push_back(b.price_count);
    volume.push_back(b.volume);
    open_ts.push_back(b.open_ts);
    open_id.push_back(b.open_id);
    close_ts.push_back(b.close_ts);
    close_id.push_back(b.close_id);
    max_id.push_back(b.max_id);
  }
  SqlParams params = KeyParams(keys);
  params.FloatArray(open).FloatArray(high).FloatArray(low).FloatArray(close).IntArray(count)
      .OptionalFloatArray(volume).TimeArray(open_ts).IntArray(open_id).TimeArray(close_ts)
      .IntArray(close_id).IntArray(max_id);
  return params;
}

// Writes `bars` (nothing for none): over the rows `current` holds, or as new rows.
absl::Status Write(Database::Lease& lease, const std::vector<Bar>& bars,
                   const absl::flat_hash_map<BarKey, Bar>& current) {
  std::vector<Bar> stored, fresh;
  for (const Bar& bar : bars) (current.contains(bar.key) ? stored : fresh).push_back(bar);
  if (!stored.empty()) {
    if (absl::Status s = lease.Run(kUpsert, BarRows(stored), "writing bars").status(); !s.ok()) {
      return s;
    }
  }
  if (fresh.empty()) return absl::OkStatus();
  absl::StatusOr<PgResult> inserted = lease.Run(kInsertNew, BarRows(fresh), "writing bars");
  if (!inserted.ok()) return inserted.status();
  if (inserted->rows() != static_cast<int>(fresh.size())) {
    return absl::AbortedError("bars were written by another writer meanwhile");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<Bar>> PostgresBarStore::Update(const std::vector<BarKey>& keys,
                                                          const Planner& plan) {
  absl::StatusOr<Database::Lease> lease = db_.Acquire();
  if (!lease.ok()) return lease.status();
  std::vector<Bar> written;
  absl::Status status = InTransaction(*lease, "writing bars", [&]() -> absl::Status {
    absl::flat_hash_map<BarKey, Bar> current;
    {
      if (absl::Status s = lease->Run(kLockKeys, KeyParams(keys), "locking bars").status();
          !s.ok()) {
        return s;
      }
      std::vector<Bar> stored;
      if (absl::Status s = ReadBars(*lease, kLock, KeyParams(keys), stored); !s.ok()) return s;
      for (Bar& bar : stored) current.emplace(bar.key, std::move(bar));
    }
    BarSteps steps = PlanBarSteps(keys, plan(current));
    if (!steps.from_prices.empty()) {
      SqlParams params = KeyParams(steps.from_prices);
      params.IntArray(steps.through);
      std::vector<Bar> recomputed;
      if (absl::Status s = ReadBars(*lease, kRecompute, params, recomputed); !s.ok()) return s;
      for (Bar& bar : recomputed) {
        (bar.key.interval_seconds == steps.base ? steps.first : steps.later)
            .push_back(std::move(bar));
      }
    }
    if (absl::Status s = Write(*lease, steps.first, current); !s.ok()) return s;
    if (!steps.rolled_up.empty()) {
      SqlParams params = KeyParams(steps.rolled_up);
      params.Int(steps.base);
      if (absl::Status s = ReadBars(*lease, kRollUp, params, steps.later); !s.ok()) return s;
    }
    if (absl::Status s = Write(*lease, steps.later, current); !s.ok()) return s;
    written = std::move(steps.first);
    written.insert(written.end(), std::make_move_iterator(steps.later.begin()),
                   std::make_move_iterator(steps.later.end()));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return written;
}

absl::StatusOr<std::vector<Bar>> PostgresBarStore::Merge(const std::vector<Bar>& deltas) {
  std::vector<Bar> merged;
  if (deltas.empty()) return merged;
  absl::StatusOr<Database::Lease> lease = db_.Acquire();
  if (!lease.ok()) return lease.status();
  if (absl::Status s = ReadBars(*lease, kMerge, BarRows(deltas), merged); !s.ok()) return s;
  return merged;
}

absl::StatusOr<BarPage> PostgresBarStore::List(const BarQuery& query) {
  SqlParams params;
  params.Text(query.symbol).Int(query.interval_seconds);
  params.OptionalTime(query.start).OptionalTime(query.end);
  if (query.page_token.empty()) {
    params.Null();
  } else {
    absl::StatusOr<PageCursor> cursor = DecodePageCursor(query.page_token);
    if (!cursor.ok()) return cursor.status();
    params.Time(absl::FromUnixMicros(cursor->micros));
  }
  params.Int(query.limit + 1);
  BarPage page;
  absl::StatusOr<Database::Lease> lease = db_.Acquire();
  if (!lease.ok()) return lease.status();
  if (absl::Status s = ReadBars(*lease, kList, params, page.bars); !s.ok()) return s;
  if (static_cast<int>(page.bars.size()) > query.limit) {
    page.bars.resize(query.limit);
    page.next_page_token = EncodePageCursor(page.bars.back().key.start, 0);
  }
  return page;
}

}  // namespace marketdata
