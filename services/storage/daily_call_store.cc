#include "services/storage/daily_call_store.h"

#include <string>

#include "services/storage/sql_params.h"

namespace marketdata {
namespace {

// Counts the call unless the day's limit is reached: then the conflicting row is left as it is
// and nothing is returned. The row lock the upsert takes orders concurrent callers.
constexpr PreparedSql kTake = {"take_daily_provider_call", R"SQL(
INSERT INTO provider_daily_calls AS d (provider, day, calls)
VALUES ($1, CAST($2 AS date), 1)
ON CONFLICT (provider, day) DO UPDATE SET calls = d.calls + 1 WHERE d.calls < $3
RETURNING calls)SQL"};

constexpr PreparedSql kUsed = {"daily_provider_calls_used", R"SQL(
SELECT coalesce((SELECT calls FROM provider_daily_calls
                 WHERE provider = $1 AND day = CAST($2 AS date)), 0))SQL"};

// The day as PostgreSQL reads a date whatever the session's time zone.
std::string Day(absl::Time day) { return absl::FormatTime("%Y-%m-%d", day, absl::UTCTimeZone()); }

}  // namespace

absl::StatusOr<DailyCallLedger::Take> PostgresDailyCallLedger::TakeCall(absl::string_view provider,
                                                                       absl::Time day,
                                                                       int64_t limit) {
  absl::StatusOr<Database::Lease> lease = db_.Acquire();
  if (!lease.ok()) return lease.status();
  absl::StatusOr<PgResult> taken = lease->Run(
      kTake, SqlParams().Text(provider).Text(Day(day)).Int(limit), "counting a provider call");
  if (!taken.ok()) return taken.status();
  if (taken->rows() == 1) return Take{true, taken->int64(0, 0)};
  absl::StatusOr<PgResult> used =
      lease->Run(kUsed, SqlParams().Text(provider).Text(Day(day)), "reading a provider's calls");
  if (!used.ok()) return used.status();
  return Take{false, used->int64(0, 0)};
}

absl::StatusOr<int64_t> PostgresDailyCallLedger::Used(absl::string_view provider, absl::Time day) {
  absl::StatusOr<Database::Lease> lease = db_.Acquire();
  if (!lease.ok()) return lease.status();
  absl::StatusOr<PgResult> used =
      lease->Run(kUsed, SqlParams().Text(provider).Text(Day(day)), "reading a provider's calls");
  if (!used.ok()) return used.status();
  return used->int64(0, 0);
}

}  // namespace marketdata
