// PostgresDailyCallLedger: the daily quotas' counts in PostgreSQL (table provider_daily_calls),
// one row per provider and UTC day, taken with one atomic upsert per call.
#ifndef MARKETDATA_SERVICES_STORAGE_DAILY_CALL_STORE_H_
#define MARKETDATA_SERVICES_STORAGE_DAILY_CALL_STORE_H_

#include "services/providers/daily_call_ledger.h"
#include "services/storage/database.h"

namespace marketdata {

class PostgresDailyCallLedger final : public DailyCallLedger {
 public:
  explicit PostgresDailyCallLedger(Database& db) : db_(db) {}

  absl::StatusOr<Take> TakeCall(absl::string_view provider, absl::Time day,
                                int64_t limit) override;
  absl::StatusOr<int64_t> Used(absl::string_view provider, absl::Time day) override;

 private:
  Database& db_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_STORAGE_DAILY_CALL_STORE_H_
