#include "services/storage/price_store.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/storage/page_cursor.h"
#include "services/storage/raw_replies.h"
#include "soci/soci.h"

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
constexpr PreparedSql kSaveBatch = {"save_price_batch_v2", R"SQL(
WITH in_id_order AS MATERIALIZED (SELECT pg_advisory_xact_lock(4242001)),
raw AS MATERIALIZED (
    INSERT INTO raw_market_data (id, replies, fetched_at)
    SELECT nextval('raw_market_data_id_seq'), CAST($8 AS BYTEA), now() FROM in_id_order
    RETURNING id),
input AS MATERIALIZED (
    SELECT u.n, u.symbol, u.provider,
           timestamptz 'epoch' + u.ts_us * interval '1 microsecond' AS ts, u.price, u.volume,
           raw.id AS raw_id,
           nextval('price_points_id_seq') AS point_id,
           nullif(u.request_id, '') AS request_id, nullif(u.traceparent, '') AS traceparent
    FROM raw,
         unnest(CAST($1 AS TEXT[]), CAST($2 AS TEXT[]), CAST($3 AS BIGINT[]),
                CAST($4 AS DOUBLE PRECISION[]), CAST($5 AS DOUBLE PRECISION[]),
                CAST($6 AS TEXT[]), CAST($7 AS TEXT[]))
         WITH ORDINALITY AS u(symbol, provider, ts_us, price, volume, request_id, traceparent, n)),
point AS (
    INSERT INTO price_points (id, symbol, price, ts, provider, raw_response_id, volume)
    SELECT point_id, symbol, price, ts, provider, raw_id, volume FROM input),
outbox AS (
    INSERT INTO price_event_outbox (price_point_id, symbol, price_ts, request_id, traceparent)
    SELECT point_id, symbol, ts, request_id, traceparent FROM input)
SELECT n, raw_id, point_id FROM input)SQL"};

// bytea's text form: \x and two hex digits a byte.
std::string ByteaText(absl::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + 2 * bytes.size());
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

// One element of a PostgreSQL array literal: quoted, with " and \ escaped.
void AppendArrayElement(std::string* out, absl::string_view value) {
  out->push_back('"');
  for (char c : value) {
    if (c == '"' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('"');
}

using Text = const std::string&;

// A text array of one field of every quote; `field` returns a reference (no copies).
template <typename Field>
std::string TextArray(const std::vector<Quote>& quotes, Field field) {
  std::string out = "{";
  for (size_t i = 0; i < quotes.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendArrayElement(&out, field(quotes[i]));
  }
  out.push_back('}');
  return out;
}


constexpr char kClaimDue[] = R"SQL(
WITH due AS (
    SELECT price_point_id FROM price_event_outbox
    WHERE available_at <= now()
    ORDER BY available_at
    LIMIT :limit
    FOR UPDATE SKIP LOCKED),
claimed AS (
    UPDATE price_event_outbox o
    SET available_at = now() + :lease_ms * interval '1 millisecond', attempts = o.attempts + 1
    FROM due WHERE o.price_point_id = due.price_point_id
    RETURNING o.price_point_id, o.symbol, o.price_ts, o.request_id, o.traceparent)
SELECT p.id, p.raw_response_id, p.symbol, p.price,
       CAST(extract(epoch FROM p.ts) * 1000000 AS BIGINT), p.provider, p.volume,
       coalesce(claimed.request_id, ''), coalesce(claimed.traceparent, '')
FROM claimed JOIN price_points p
  ON p.symbol = claimed.symbol AND p.ts = claimed.price_ts AND p.id = claimed.price_point_id
ORDER BY p.id)SQL";

constexpr PreparedSql kAcknowledge = {
    "acknowledge_outbox",
    "DELETE FROM price_event_outbox WHERE price_point_id = ANY(CAST($1 AS BIGINT[]))"};

// The row bound of a later page comes with a plain bound on ts, which prunes partitions (a row
// comparison alone does not).
constexpr char kListPrices[] = R"SQL(
SELECT id, coalesce(raw_response_id, 0), symbol, price,
       CAST(extract(epoch FROM ts) * 1000000 AS BIGINT), provider
FROM price_points
WHERE symbol = :symbol
  AND (:any_provider = 1 OR provider = :provider)
  AND (:has_start = 0 OR ts >= timestamptz 'epoch' + :start_us * interval '1 microsecond')
  AND (:has_end = 0 OR ts < timestamptz 'epoch' + :end_us * interval '1 microsecond')
  AND (:first_page = 1 OR (ts <= timestamptz 'epoch' + :cursor_us * interval '1 microsecond'
                           AND (ts, id) < (timestamptz 'epoch' + :cursor_us * interval '1 microsecond',
                                           :cursor_id)))
ORDER BY ts DESC, id DESC
LIMIT :limit)SQL";

}  // namespace

absl::StatusOr<PricePage> PostgresPriceStore::ListPrices(const PriceQuery& q) {
  PageCursor cursor;
  if (!q.page_token.empty()) {
    absl::StatusOr<PageCursor> decoded = DecodePageCursor(q.page_token);
    if (!decoded.ok()) return decoded.status();
    cursor = *decoded;
  }
  PricePage page;
  absl::Status status = WithSession(db_, "reading price history", [&](Database::Lease& lease) {
    int any_provider = q.provider.empty() ? 1 : 0;
    int has_start = q.start.has_value() ? 1 : 0;
    int has_end = q.end.has_value() ? 1 : 0;
    long long start_us = q.start.has_value() ? absl::ToUnixMicros(*q.start) : 0;
    long long end_us = q.end.has_value() ? absl::ToUnixMicros(*q.end) : 0;
    int first_page = q.page_token.empty() ? 1 : 0;
    int fetch = q.limit + 1;
    soci::rowset<soci::row> rows =
        (lease->prepare << kListPrices, soci::use(q.symbol, "symbol"),
         soci::use(any_provider, "any_provider"), soci::use(q.provider, "provider"),
         soci::use(has_start, "has_start"), soci::use(start_us, "start_us"),
         soci::use(has_end, "has_end"), soci::use(end_us, "end_us"),
         soci::use(first_page, "first_page"), soci::use(cursor.micros, "cursor_us"),
         soci::use(cursor.id, "cursor_id"), soci::use(fetch, "limit"));
    for (const soci::row& row : rows) {
      StoredPrice p;
      p.price_point_id = row.get<long long>(0);
      p.raw_response_id = row.get<long long>(1);
      p.quote.symbol = row.get<std::string>(2);
      p.quote.price = row.get<double>(3);
      p.quote.timestamp = absl::FromUnixMicros(row.get<long long>(4));
      p.quote.provider = row.get<std::string>(5);
      page.prices.push_back(std::move(p));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
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
  absl::Status status = WithSession(db, "saving prices", [&](Database::Lease& lease) {
    std::string symbols = TextArray(quotes, [](const Quote& q) -> Text { return q.symbol; });
    std::string providers = TextArray(quotes, [](const Quote& q) -> Text { return q.provider; });
    std::vector<RawReply> replies;
    replies.reserve(quotes.size());
    for (const Quote& q : quotes) {
      replies.push_back({q.symbol, q.provider, q.timestamp, q.raw_response});
    }
    std::string request_ids =
        TextArray(quotes, [](const Quote& q) -> Text { return q.origin.request_id; });
    std::string traceparents =
        TextArray(quotes, [](const Quote& q) -> Text { return q.origin.traceparent; });
    std::string ts = absl::StrCat(
        "{", absl::StrJoin(quotes, ",", [](std::string* o, const Quote& q) {
          absl::StrAppend(o, absl::ToUnixMicros(q.timestamp));
        }), "}");
    std::string prices = absl::StrCat(
        "{", absl::StrJoin(quotes, ",", [](std::string* o, const Quote& q) {
          absl::StrAppend(o, absl::StrFormat("%.17g", q.price));
        }), "}");
    std::string volumes = absl::StrCat(
        "{", absl::StrJoin(quotes, ",", [](std::string* o, const Quote& q) {
          if (q.volume.has_value()) {
            absl::StrAppend(o, absl::StrFormat("%.17g", *q.volume));
          } else {
            absl::StrAppend(o, "NULL");
          }
        }), "}");
    absl::StatusOr<PgResult> rows = lease.Execute(
        kSaveBatch,
        {symbols, providers, ts, prices, volumes, request_ids, traceparents,
         ByteaText(EncodeRawReplies(replies))},
        "saving prices");
    if (!rows.ok()) return rows.status();
    size_t seen = 0;
    for (int r = 0; r < rows->rows(); ++r) {
      const int64_t n = rows->int64(r, 0) - 1;
      if (n < 0 || n >= static_cast<int64_t>(quotes.size())) continue;
      out[n].raw_response_id = rows->int64(r, 1);
      out[n].price_point_id = rows->int64(r, 2);
      ++seen;
    }
    if (seen != quotes.size()) {
      return absl::InternalError(absl::StrCat("saved ", seen, " of ", quotes.size(), " prices"));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<StoredPrice> PostgresPriceStore::SavePrice(const Quote& quote) {
  absl::StatusOr<std::vector<StoredPrice>> stored = SavePriceBatch(db_, {quote});
  if (!stored.ok()) return stored.status();
  return (*stored)[0];
}

absl::StatusOr<std::vector<StoredPrice>> PostgresPriceStore::ClaimDue(int limit,
                                                                      absl::Duration lease_time) {
  std::vector<StoredPrice> out;
  absl::Status status = WithSession(db_, "claiming outbox entries", [&](Database::Lease& lease) {
    long long lease_ms = absl::ToInt64Milliseconds(lease_time);
    soci::rowset<soci::row> rows =
        (lease->prepare << kClaimDue, soci::use(limit, "limit"), soci::use(lease_ms, "lease_ms"));
    for (const soci::row& row : rows) {
      StoredPrice p;
      p.price_point_id = row.get<long long>(0);
      p.raw_response_id = row.get_indicator(1) == soci::i_ok ? row.get<long long>(1) : 0;
      p.quote.symbol = row.get<std::string>(2);
      p.quote.price = row.get<double>(3);
      p.quote.timestamp = absl::FromUnixMicros(row.get<long long>(4));
      p.quote.provider = row.get<std::string>(5);
      if (row.get_indicator(6) == soci::i_ok) p.quote.volume = row.get<double>(6);
      p.quote.origin = RequestContext::From(row.get<std::string>(7), row.get<std::string>(8));
      out.push_back(std::move(p));
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return out;
}

absl::Status PostgresPriceStore::Acknowledge(const std::vector<int64_t>& ids) {
  if (ids.empty()) return absl::OkStatus();
  return WithSession(db_, "acknowledging outbox entries", [&](Database::Lease& lease) {
    std::string array = absl::StrCat("{", absl::StrJoin(ids, ","), "}");
    return lease.Execute(kAcknowledge, {array}, "acknowledging outbox entries").status();
  });
}

}  // namespace marketdata
