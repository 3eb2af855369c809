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

// The keys of a batch as three arrays: symbols, intervals, bucket starts (epoch microseconds).
#define KEYS                                                                           \
  "unnest(CAST(:symbols AS TEXT[]), CAST(:intervals AS INT[]), CAST(:starts AS BIGINT[])) " \
  "AS k(symbol, secs, start_us)"

constexpr char kLock[] =
    "SELECT " BAR_COLUMNS " FROM bars WHERE (symbol, interval_seconds, bucket_start) IN ("
    "  SELECT k.symbol, k.secs, timestamptz 'epoch' + k.start_us * interval '1 microsecond' "
    "  FROM " KEYS ") "
    "ORDER BY symbol, interval_seconds, bucket_start FOR UPDATE";

// The definition, over price_points: open and close by (ts, id), counting the prices up to an
// id (BarPlan::recompute_through).
constexpr char kRecompute[] =
    "SELECT k.symbol, k.secs, k.start_us, "
    "  (array_agg(p.price ORDER BY p.ts, p.id))[1], max(p.price), min(p.price), "
    "  (array_agg(p.price ORDER BY p.ts DESC, p.id DESC))[1], count(*), sum(p.volume), "
    "  CAST(extract(epoch FROM min(p.ts)) * 1000000 AS BIGINT), "
    "  (array_agg(p.id ORDER BY p.ts, p.id))[1], "
    "  CAST(extract(epoch FROM max(p.ts)) * 1000000 AS BIGINT), "
    "  (array_agg(p.id ORDER BY p.ts DESC, p.id DESC))[1], max(p.id) "
    "FROM unnest(CAST(:symbols AS TEXT[]), CAST(:intervals AS INT[]), CAST(:starts AS BIGINT[]), "
    "            CAST(:through AS BIGINT[])) AS k(symbol, secs, start_us, through) "
    "JOIN price_points p ON p.symbol = k.symbol AND p.id <= k.through "
    "  AND p.ts >= timestamptz 'epoch' + k.start_us * interval '1 microsecond' "
    "  AND p.ts < timestamptz 'epoch' + (k.start_us + k.secs * CAST(1000000 AS BIGINT)) "
    "                                   * interval '1 microsecond' "
    "GROUP BY k.symbol, k.secs, k.start_us";

// A bar of an interval that is a multiple of `base` from the stored bars of `base` it spans
// (written first, in the same transaction): far fewer rows than its prices. Exact, since the
// buckets of both are aligned to the epoch: open and close by (ts, id) across the sub-bars.
constexpr char kRollUp[] =
    "SELECT k.symbol, k.secs, k.start_us, "
    "  (array_agg(b.open ORDER BY b.open_ts, b.open_id))[1], max(b.high), min(b.low), "
    "  (array_agg(b.close ORDER BY b.close_ts DESC, b.close_id DESC))[1], "
    "  CAST(sum(b.price_count) AS BIGINT), sum(b.volume), "
    "  CAST(extract(epoch FROM min(b.open_ts)) * 1000000 AS BIGINT), "
    "  (array_agg(b.open_id ORDER BY b.open_ts, b.open_id))[1], "
    "  CAST(extract(epoch FROM max(b.close_ts)) * 1000000 AS BIGINT), "
    "  (array_agg(b.close_id ORDER BY b.close_ts DESC, b.close_id DESC))[1], max(b.max_id) "
    "FROM " KEYS " JOIN bars b ON b.symbol = k.symbol AND b.interval_seconds = :base "
    "  AND b.bucket_start >= timestamptz 'epoch' + k.start_us * interval '1 microsecond' "
    "  AND b.bucket_start < timestamptz 'epoch' + (k.start_us + k.secs * CAST(1000000 AS BIGINT)) "
    "                                             * interval '1 microsecond' "
    "GROUP BY k.symbol, k.secs, k.start_us";

constexpr char kUpsert[] =
    "INSERT INTO bars (symbol, interval_seconds, bucket_start, open, high, low, close, "
    "  price_count, volume, open_ts, open_id, close_ts, close_id, max_id) "
    "SELECT symbol, secs, timestamptz 'epoch' + start_us * interval '1 microsecond', "
    "  open, high, low, close, n, volume, "
    "  timestamptz 'epoch' + open_us * interval '1 microsecond', open_id, "
    "  timestamptz 'epoch' + close_us * interval '1 microsecond', close_id, max_id "
    "FROM unnest(CAST(:symbols AS TEXT[]), CAST(:intervals AS INT[]), CAST(:starts AS BIGINT[]), "
    "  CAST(:opens AS DOUBLE PRECISION[]), CAST(:highs AS DOUBLE PRECISION[]), "
    "  CAST(:lows AS DOUBLE PRECISION[]), CAST(:closes AS DOUBLE PRECISION[]), "
    "  CAST(:counts AS BIGINT[]), CAST(:volumes AS DOUBLE PRECISION[]), "
    "  CAST(:open_us AS BIGINT[]), CAST(:open_ids AS BIGINT[]), CAST(:close_us AS BIGINT[]), "
    "  CAST(:close_ids AS BIGINT[]), CAST(:max_ids AS BIGINT[])) "
    "  AS u(symbol, secs, start_us, open, high, low, close, n, volume, open_us, open_id, "
    "       close_us, close_id, max_id) "
    "ON CONFLICT (symbol, interval_seconds, bucket_start) DO UPDATE SET "
    "  open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close, "
    "  price_count = EXCLUDED.price_count, volume = EXCLUDED.volume, "
    "  open_ts = EXCLUDED.open_ts, open_id = EXCLUDED.open_id, close_ts = EXCLUDED.close_ts, "
    "  close_id = EXCLUDED.close_id, max_id = EXCLUDED.max_id";

constexpr char kList[] =
    "SELECT " BAR_COLUMNS " FROM bars "
    "WHERE symbol = :symbol AND interval_seconds = :secs "
    "  AND (:has_start = 0 "
    "       OR bucket_start >= timestamptz 'epoch' + :start_us * interval '1 microsecond') "
    "  AND (:has_end = 0 "
    "       OR bucket_start < timestamptz 'epoch' + :end_us * interval '1 microsecond') "
    "  AND (:first_page = 1 "
    "       OR bucket_start < timestamptz 'epoch' + :cursor_us * interval '1 microsecond') "
    "ORDER BY bucket_start DESC LIMIT :limit";

#undef BAR_COLUMNS
#undef KEYS

Bar ReadBar(const soci::row& row) {
  Bar bar;
  bar.key.symbol = row.get<std::string>(0);
  bar.key.interval_seconds = row.get<int>(1);
  bar.key.start = absl::FromUnixMicros(row.get<long long>(2));
  bar.open = row.get<double>(3);
  bar.high = row.get<double>(4);
  bar.low = row.get<double>(5);
  bar.close = row.get<double>(6);
  bar.price_count = row.get<long long>(7);
  if (row.get_indicator(8) == soci::i_ok) bar.volume = row.get<double>(8);
  bar.open_ts = absl::FromUnixMicros(row.get<long long>(9));
  bar.open_id = row.get<long long>(10);
  bar.close_ts = absl::FromUnixMicros(row.get<long long>(11));
  bar.close_id = row.get<long long>(12);
  bar.max_id = row.get<long long>(13);
  return bar;
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

struct KeyArrays {
  std::string symbols, intervals, starts;
};

KeyArrays ToArrays(const std::vector<BarKey>& keys) {
  return {Array(keys, [](const BarKey& k) { return Quoted(k.symbol); }),
          Array(keys, [](const BarKey& k) { return absl::StrCat(k.interval_seconds); }),
          Array(keys, [](const BarKey& k) { return absl::StrCat(absl::ToUnixMicros(k.start)); })};
}

// Upserts `bars` (nothing for none).
void Write(Database::Lease& lease, const std::vector<Bar>& bars) {
  if (bars.empty()) return;
  KeyArrays w = ToArrays([&] {
    std::vector<BarKey> out;
    for (const Bar& b : bars) out.push_back(b.key);
    return out;
  }());
  std::string opens = Array(bars, [](const Bar& b) { return Double(b.open); });
  std::string highs = Array(bars, [](const Bar& b) { return Double(b.high); });
  std::string lows = Array(bars, [](const Bar& b) { return Double(b.low); });
  std::string closes = Array(bars, [](const Bar& b) { return Double(b.close); });
  std::string counts = Array(bars, [](const Bar& b) { return absl::StrCat(b.price_count); });
  std::string volumes = Array(bars, [](const Bar& b) {
    return b.volume.has_value() ? Double(*b.volume) : std::string("NULL");
  });
  std::string open_us =
      Array(bars, [](const Bar& b) { return absl::StrCat(absl::ToUnixMicros(b.open_ts)); });
  std::string open_ids = Array(bars, [](const Bar& b) { return absl::StrCat(b.open_id); });
  std::string close_us =
      Array(bars, [](const Bar& b) { return absl::StrCat(absl::ToUnixMicros(b.close_ts)); });
  std::string close_ids = Array(bars, [](const Bar& b) { return absl::StrCat(b.close_id); });
  std::string max_ids = Array(bars, [](const Bar& b) { return absl::StrCat(b.max_id); });
  lease->once << kUpsert, soci::use(w.symbols, "symbols"), soci::use(w.intervals, "intervals"),
      soci::use(w.starts, "starts"), soci::use(opens, "opens"), soci::use(highs, "highs"),
      soci::use(lows, "lows"), soci::use(closes, "closes"), soci::use(counts, "counts"),
      soci::use(volumes, "volumes"), soci::use(open_us, "open_us"),
      soci::use(open_ids, "open_ids"), soci::use(close_us, "close_us"),
      soci::use(close_ids, "close_ids"), soci::use(max_ids, "max_ids");
}

}  // namespace

absl::StatusOr<std::vector<Bar>> PostgresBarStore::Update(const std::vector<BarKey>& keys,
                                                          const Planner& plan) {
  std::vector<Bar> written;
  absl::Status status = WithSession(db_, "writing bars", [&](Database::Lease& lease) {
    written.clear();
    soci::transaction tx(lease.session());
    KeyArrays k = ToArrays(keys);
    absl::flat_hash_map<BarKey, Bar> current;
    {
      soci::rowset<soci::row> rows =
          (lease->prepare << kLock, soci::use(k.symbols, "symbols"),
           soci::use(k.intervals, "intervals"), soci::use(k.starts, "starts"));
      for (const soci::row& row : rows) {
        Bar bar = ReadBar(row);
        current.emplace(bar.key, std::move(bar));
      }
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
      KeyArrays r = ToArrays(from_prices);
      std::string up_to = Array(through, [](int64_t id) { return absl::StrCat(id); });
      soci::rowset<soci::row> rows =
          (lease->prepare << kRecompute, soci::use(r.symbols, "symbols"),
           soci::use(r.intervals, "intervals"), soci::use(r.starts, "starts"),
           soci::use(up_to, "through"));
      for (const soci::row& row : rows) {
        Bar bar = ReadBar(row);
        (bar.key.interval_seconds == base ? first : later).push_back(std::move(bar));
      }
    }
    Write(lease, first);
    if (!rolled_up.empty()) {
      KeyArrays r = ToArrays(rolled_up);
      soci::rowset<soci::row> rows =
          (lease->prepare << kRollUp, soci::use(r.symbols, "symbols"),
           soci::use(r.intervals, "intervals"), soci::use(r.starts, "starts"),
           soci::use(base, "base"));
      for (const soci::row& row : rows) later.push_back(ReadBar(row));
    }
    Write(lease, later);
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
    int has_start = query.start.has_value() ? 1 : 0, has_end = query.end.has_value() ? 1 : 0;
    long long start_us = query.start ? absl::ToUnixMicros(*query.start) : 0;
    long long end_us = query.end ? absl::ToUnixMicros(*query.end) : 0;
    int first_page = query.page_token.empty() ? 1 : 0;
    long long cursor_us = cursor.micros;
    int secs = query.interval_seconds, fetch = query.limit + 1;
    soci::rowset<soci::row> rows =
        (lease->prepare << kList, soci::use(query.symbol, "symbol"), soci::use(secs, "secs"),
         soci::use(has_start, "has_start"), soci::use(start_us, "start_us"),
         soci::use(has_end, "has_end"), soci::use(end_us, "end_us"),
         soci::use(first_page, "first_page"), soci::use(cursor_us, "cursor_us"),
         soci::use(fetch, "limit"));
    for (const soci::row& row : rows) page.bars.push_back(ReadBar(row));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (static_cast<int>(page.bars.size()) > query.limit) {
    page.bars.resize(query.limit);
    page.next_page_token = EncodePageCursor(page.bars.back().key.start, 0);
  }
  return page;
}

}  // namespace marketdata
