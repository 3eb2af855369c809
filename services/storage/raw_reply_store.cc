#include "services/storage/raw_reply_store.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace marketdata {
namespace {

// By id alone: one probe of the key in each partition.
constexpr PreparedSql kLoad = {"load_raw_replies", R"SQL(
SELECT encode(replies, 'base64'), coalesce(symbol, ''), coalesce(provider, ''),
       coalesce(CAST(response AS TEXT), ''), fetched_at
FROM raw_market_data WHERE id = CAST($1 AS BIGINT))SQL"};

}  // namespace

absl::StatusOr<std::vector<RawReply>> LoadRawReplies(Database& db, int64_t raw_id) {
  absl::StatusOr<Database::Lease> lease = db.Acquire();
  if (!lease.ok()) return lease.status();
  absl::StatusOr<PgResult> rows =
      lease->Run(kLoad, SqlParams().Int(raw_id), "reading raw replies");
  if (!rows.ok()) return rows.status();
  if (rows->rows() == 0) {
    return absl::NotFoundError(absl::StrCat("no raw replies ", raw_id,
                                            " (removed past RAW_RETENTION, or never stored)"));
  }
  if (rows->null(0, 0)) {
    return std::vector<RawReply>{{std::string(rows->text(0, 1)), std::string(rows->text(0, 2)),
                                  rows->time(0, 4),
                                  std::string(rows->text(0, 3))}};
  }
  std::string bytes;
  // PostgreSQL's base64 breaks lines every 76 characters.
  std::string text(rows->text(0, 0));
  text.erase(std::remove(text.begin(), text.end(), '\n'), text.end());
  if (!absl::Base64Unescape(text, &bytes)) {
    return absl::InternalError(absl::StrCat("raw replies ", raw_id, ": unreadable base64"));
  }
  return DecodeRawReplies(bytes);
}

}  // namespace marketdata
