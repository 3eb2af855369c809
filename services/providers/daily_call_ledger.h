// DailyCallLedger: where the calls of a provider's daily quota are counted, so that every process
// of the service shares one count and a restart does not give the day's calls back
// (PostgresDailyCallLedger in services/storage; GuardedProvider uses it when given one).
#ifndef MARKETDATA_SERVICES_PROVIDERS_DAILY_CALL_LEDGER_H_
#define MARKETDATA_SERVICES_PROVIDERS_DAILY_CALL_LEDGER_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace marketdata {

class DailyCallLedger {
 public:
  struct Take {
    bool granted = false;  // the call was counted: it may be made
    int64_t used = 0;      // the calls counted that day, this one included when granted
  };

  virtual ~DailyCallLedger() = default;

  // Counts one call of `provider` on the UTC day that starts at `day`, unless `limit` calls are
  // counted already. Atomic across processes.
  virtual absl::StatusOr<Take> TakeCall(absl::string_view provider, absl::Time day,
                                        int64_t limit) = 0;
  // The calls counted for `provider` on the UTC day that starts at `day`.
  virtual absl::StatusOr<int64_t> Used(absl::string_view provider, absl::Time day) = 0;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PROVIDERS_DAILY_CALL_LEDGER_H_
