#include "services/storage/price_store.h"

#include <algorithm>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "services/storage/page_cursor.h"
#include "services/storage/raw_replies.h"

namespace marketdata {
namespace {

// The batch's raw replies go into one row, compressed together (see raw_replies.h), which every
// price of the batch names. It is stamped with the time it was stored (fetched_at), not the
// quotes' own times, which may lie days back: raw replies are kept by their age
// (RAW_RETENTION), in partitions made ahead of the database's clock.
//
// Ids are drawn in the materialised `input` CTE, so each result row says which input it was.
// They are drawn under a transaction-scoped advisory lock, so batches commit in the order of
// their ids, across replicas too: events then reach consumers in id order, which they can apply
// without repairs. The lock costs one batch's statement time, not a round trip.
//
// A quote fetched for a polling tick (Quote::tick) is kept only if its tick record goes in with
// it: the job is still running, leased to the quote's owner for this very tick, and the tick has
// no price of the symbol yet. Otherwise neither the price nor its outbox row is written, and the
// quote comes back with price_point_id 0 (see SavedOrRefused).
// Batches without such quotes take the statement without tick records, which also runs on
// schemas from before tick records (0015), as during an online upgrade.
//
// The two statements share their text but for the tick columns and the `kept` filter:
// SAVE_BATCH_HEAD takes the id-order lock, stores the raw replies and begins the input with the
// columns both read; SAVE_BATCH_INSERTS(rows) writes the price points and their outbox rows.
#define SAVE_BATCH_HEAD                                                                          \
  "\n"                                                                                           \
  "WITH in_id_order AS MATERIALIZED (SELECT pg_advisory_xact_lock(4242001)),\n"                  \
  "raw AS MATERIALIZED (\n"                                                                      \
  "    INSERT INTO raw_market_data (id, replies, fetched_at)\n"                                  \
  "    SELECT nextval('raw_market_data_id_seq'), CAST($8 AS BYTEA), now() FROM in_id_order\n"    \
  "    RETURNING id),\n"                                                                         \
  "input AS MATERIALIZED (\n"                                                                    \
  "    SELECT u.n, u.symbol, u.provider,\n"                                                      \
  "           u.ts, u.price, u.volume,\n"                                                        \
  "           raw.id AS raw_id,\n"                                                               \
  "           nextval('price_points_id_seq') AS point_id,\n"                                     \
  "           nullif(u.request_id, '') AS request_id, nullif(u.traceparent, '') AS traceparent"

#define SAVE_BATCH_INSERTS(rows)                                                                 \
  "\n"                                                                                           \
  "point AS (\n"                                                                                 \
  "    INSERT INTO price_points (id, symbol, price, ts, provider, raw_response_id, volume)\n"    \
  "    SELECT point_id, symbol, price, ts, provider, raw_id, volume FROM " rows "),\n"           \
  "outbox AS (\n"                                                                                \
  "    INSERT INTO price_event_outbox (price_point_id, symbol, price_ts, request_id, traceparent)\n" \
  "    SELECT point_id, symbol, ts, request_id, traceparent FROM " rows ")"

constexpr PreparedSql kSaveBatch = {"save_price_batch_v3", SAVE_BATCH_HEAD R"SQL(
    FROM raw,
         unnest(CAST($1 AS TEXT[]), CAST($2 AS TEXT[]), CAST($3 AS TIMESTAMPTZ[]),
                CAST($4 AS DOUBLE PRECISION[]), CAST($5 AS DOUBLE PRECISION[]),
                CAST($6 AS TEXT[]), CAST($7 AS TEXT[]))
         WITH ORDINALITY AS u(symbol, provider, ts, price, volume, request_id, traceparent, n)),)SQL"
    SAVE_BATCH_INSERTS("input") R"SQL(
SELECT n, raw_id, point_id, 0, 1 FROM input)SQL"};

// The same with the tick records of a batch that holds quotes of polling ticks.
constexpr PreparedSql kSaveTickedBatch = {"save_ticked_price_batch", SAVE_BATCH_HEAD R"SQL(,
           nullif(u.job_id, '') AS job_id, u.tick_at, u.owner
    FROM raw,
         unnest(CAST($1 AS TEXT[]), CAST($2 AS TEXT[]), CAST($3 AS TIMESTAMPTZ[]),
                CAST($4 AS DOUBLE PRECISION[]), CAST($5 AS DOUBLE PRECISION[]),
                CAST($6 AS TEXT[]), CAST($7 AS TEXT[]), CAST($9 AS TEXT[]),
                CAST($10 AS TIMESTAMPTZ[]), CAST($11 AS TEXT[]))
         WITH ORDINALITY AS u(symbol, provider, ts, price, volume, request_id, traceparent,
                              job_id, tick_at, owner, n)),
ticked AS MATERIALIZED (
    INSERT INTO polling_tick_prices (job_id, tick_at, symbol, price_point_id, recorded_by)
    SELECT i.job_id, i.tick_at, i.symbol, i.point_id, i.owner
    FROM input i JOIN polling_jobs j ON j.job_id = i.job_id
    WHERE j.status = 'running' AND j.lease_owner = i.owner AND j.lease_expires_at > now()
      AND j.next_run_at = i.tick_at
    ON CONFLICT DO NOTHING
    RETURNING price_point_id),
kept AS MATERIALIZED (
    SELECT * FROM input
    WHERE job_id IS NULL OR point_id IN (SELECT price_point_id FROM ticked)),)SQL"
    SAVE_BATCH_INSERTS("kept") R"SQL(
SELECT i.n, i.raw_id, i.point_id, CAST(i.job_id IS NOT NULL AS INT),
       CAST(k.point_id IS NOT NULL AS INT)
FROM input i LEFT JOIN kept k ON k.point_id = i.point_id)SQL"};

#undef SAVE_BATCH_HEAD
#undef SAVE_BATCH_INSERTS

constexpr PreparedSql kClaimDue = {"claim_outbox", R"SQL(
WITH due AS (
    SELECT price_point_id FROM price_event_outbox
    WHERE available_at <= now()
    ORDER BY available_at
    LIMIT CAST($1 AS INT)
    FOR UPDATE SKIP LOCKED),
claimed AS (
    UPDATE price_event_outbox o
    SET available_at = now() + CAST($2 AS BIGINT) * interval '1 millisecond',
        attempts = o.attempts + 1
    FROM due WHERE o.price_point_id = due.price_point_id
    RETURNING o.price_point_id, o.symbol, o.price_ts, o.request_id, o.traceparent)
SELECT p.id, p.raw_response_id, p.symbol, p.price, p.ts, p.provider, p.volume,
       coalesce(claimed.request_id, ''), coalesce(claimed.traceparent, '')
FROM claimed JOIN price_points p
  ON p.symbol = claimed.symbol AND p.ts = claimed.price_ts AND p.id = claimed.price_point_id
ORDER BY p.id)SQL"};

constexpr PreparedSql kAcknowledge = {
    "acknowledge_outbox",
    "DELETE FROM price_event_outbox WHERE price_point_id = ANY(CAST($1 AS BIGINT[]))"};

// The row bound of a later page comes with a plain bound on ts, which prunes partitions (a row
// comparison alone does not). NULL bounds are absent ones.
constexpr PreparedSql kListPrices = {"list_prices", R"SQL(
SELECT id, raw_response_id, symbol, price, ts, provider
FROM price_points
WHERE symbol = $1
  AND ($2 = '' OR provider = $2)
  AND (CAST($3 AS TIMESTAMPTZ) IS NULL OR ts >= CAST($3 AS TIMESTAMPTZ))
  AND (CAST($4 AS TIMESTAMPTZ) IS NULL OR ts < CAST($4 AS TIMESTAMPTZ))
  AND (CAST($5 AS TIMESTAMPTZ) IS NULL
       OR (ts <= CAST($5 AS TIMESTAMPTZ) AND (ts, id) < (CAST($5 AS TIMESTAMPTZ), CAST($6 AS BIGINT))))
ORDER BY ts DESC, id DESC
LIMIT CAST($7 AS INT))SQL"};

StoredPrice ReadPrice(const PgResult& rows, int r) {
  StoredPrice p;
  p.price_point_id = rows.int64(r, 0);
  p.raw_response_id = rows.int64(r, 1);
  p.quote.symbol = std::string(rows.text(r, 2));
  p.quote.price = rows.float64(r, 3);
  p.quote.timestamp = rows.time(r, 4);
  p.quote.provider = std::string(rows.text(r, 5));
  return p;
}

}  // namespace

absl::StatusOr<PricePage> PostgresPriceStore::ListPrices(const PriceQuery& q) {
  SqlParams params;
  params.Text(q.symbol).Text(q.provider);
  params.OptionalTime(q.start).OptionalTime(q.end);
  if (absl::Status s = AddPageCursor(q.page_token, params); !s.ok()) return s;
  params.Int(q.limit + 1);
  absl::StatusOr<PgResult> rows = RunStatement(db_, kListPrices, params, "reading price history");
  if (!rows.ok()) return rows.status();
  PricePage page;
  for (int r = 0; r < rows->rows(); ++r) page.prices.push_back(ReadPrice(*rows, r));
  if (static_cast<int>(page.prices.size()) > q.limit) {
    page.prices.resize(q.limit);
    page.next_page_token =
        EncodePageCursor(page.prices.back().quote.timestamp, page.prices.back().price_point_id);
  }
  return page;
}

absl::StatusOr<std::vector<StoredPrice>> SavePriceBatch(Database& db,
                                                        const std::vector<Quote>& quotes) {
  std::vector<StoredPrice> out(quotes.size());
  for (size_t i = 0; i < quotes.size(); ++i) out[i].quote = quotes[i];
  std::vector<std::string> symbols, providers, request_ids, traceparents, job_ids, owners;
  std::vector<absl::Time> times;
  std::vector<std::optional<absl::Time>> ticks;
  std::vector<double> prices;
  std::vector<std::optional<double>> volumes;
  std::vector<RawReply> replies;
  for (const Quote& q : quotes) {
    symbols.push_back(q.symbol);
    providers.push_back(q.provider);
    request_ids.push_back(q.origin.request_id);
    traceparents.push_back(q.origin.traceparent);
    times.push_back(q.timestamp);
    prices.push_back(q.price);
    volumes.push_back(q.volume);
    replies.push_back({q.symbol, q.provider, q.timestamp, q.raw_response});
    job_ids.push_back(q.tick.has_value() ? q.tick->job_id : "");
    ticks.push_back(q.tick.has_value() ? std::optional<absl::Time>(q.tick->tick_at) : std::nullopt);
    owners.push_back(q.tick.has_value() ? q.tick->owner : "");
  }
  SqlParams params;
  params.TextArray(symbols).TextArray(providers).TimeArray(times).FloatArray(prices)
      .OptionalFloatArray(volumes).TextArray(request_ids).TextArray(traceparents)
      .Bytes(EncodeRawReplies(replies));
  const bool ticked = std::any_of(quotes.begin(), quotes.end(),
                                  [](const Quote& q) { return q.tick.has_value(); });
  if (ticked) params.TextArray(job_ids).OptionalTimeArray(ticks).TextArray(owners);
  absl::StatusOr<PgResult> rows =
      RunStatement(db, ticked ? kSaveTickedBatch : kSaveBatch, params, "saving prices");
  if (!rows.ok()) return rows.status();
  size_t seen = 0;
  for (int r = 0; r < rows->rows(); ++r) {
    const int64_t n = rows->int64(r, 0) - 1;
    if (n < 0 || n >= static_cast<int64_t>(quotes.size())) continue;
    const bool recorded = rows->int64(r, 3) != 0;
    const bool kept = rows->int64(r, 4) != 0;
    out[n].raw_response_id = rows->int64(r, 1);
    out[n].price_point_id = kept ? rows->int64(r, 2) : 0;
    out[n].tick_recorded = recorded && kept;
    ++seen;
  }
  if (seen != quotes.size()) {
    return absl::InternalError(absl::StrCat("saved ", seen, " of ", quotes.size(), " prices"));
  }
  return out;
}

absl::StatusOr<StoredPrice> PostgresPriceStore::SavePrice(const Quote& quote) {
  absl::StatusOr<std::vector<StoredPrice>> stored = SavePriceBatch(db_, {quote});
  if (!stored.ok()) return stored.status();
  return SavedOrRefused((*stored)[0]);
}

namespace {
constexpr absl::string_view kTickRefused = "type.marketdata/tick-refused";
}  // namespace

absl::Status TickRefusedError(const PollTick& tick, absl::string_view symbol) {
  absl::Status refused = absl::AbortedError(absl::StrCat(
      "not stored: job ", tick.job_id, "'s tick at ",
      absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", tick.tick_at, absl::UTCTimeZone()),
      " already has a price of ", symbol, ", or ", tick.owner, " no longer holds its lease"));
  refused.SetPayload(kTickRefused, absl::Cord(TickKey(tick)));
  return refused;
}

std::optional<std::string> RefusedTick(const absl::Status& status) {
  auto key = status.GetPayload(kTickRefused);
  if (!key.has_value()) return std::nullopt;
  return std::string(*key);
}

std::string TickKey(const PollTick& tick) {
  return absl::StrCat(tick.job_id, "@", absl::ToUnixMicros(tick.tick_at), "@", tick.owner);
}

absl::StatusOr<StoredPrice> SavedOrRefused(const StoredPrice& saved) {
  if (saved.quote.tick.has_value() && !saved.tick_recorded && saved.price_point_id == 0) {
    return TickRefusedError(*saved.quote.tick, saved.quote.symbol);
  }
  return saved;
}

absl::StatusOr<std::vector<StoredPrice>> PostgresPriceStore::ClaimDue(int limit,
                                                                      absl::Duration lease_time) {
  absl::StatusOr<PgResult> rows = RunStatement(
      db_, kClaimDue, SqlParams().Int(limit).Int(absl::ToInt64Milliseconds(lease_time)),
      "claiming outbox entries");
  if (!rows.ok()) return rows.status();
  std::vector<StoredPrice> out;
  for (int r = 0; r < rows->rows(); ++r) {
    StoredPrice p = ReadPrice(*rows, r);
    p.quote.volume = rows->optional_float64(r, 6);
    p.quote.origin = RequestContext::From(std::string(rows->text(r, 7)),
                                          std::string(rows->text(r, 8)));
    out.push_back(std::move(p));
  }
  return out;
}

absl::Status PostgresPriceStore::Acknowledge(const std::vector<int64_t>& ids) {
  if (ids.empty()) return absl::OkStatus();
  return RunStatement(db_, kAcknowledge, SqlParams().IntArray(ids), "acknowledging outbox entries")
      .status();
}

}  // namespace marketdata
