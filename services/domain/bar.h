// OHLCV bars as stored and served (the logic that builds them is in services/bars).
#ifndef MARKETDATA_SERVICES_DOMAIN_BAR_H_
#define MARKETDATA_SERVICES_DOMAIN_BAR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"

namespace marketdata {

struct BarKey {
  std::string symbol;
  int interval_seconds = 0;
  absl::Time start;

  bool operator==(const BarKey& o) const {
    return symbol == o.symbol && interval_seconds == o.interval_seconds && start == o.start;
  }
  template <typename H>
  friend H AbslHashValue(H h, const BarKey& k) {
    return H::combine(std::move(h), k.symbol, k.interval_seconds, k.start);
  }
};

struct Bar {
  BarKey key;
  double open = 0, high = 0, low = 0, close = 0;
  int64_t price_count = 0;
  std::optional<double> volume;
  absl::Time open_ts, close_ts;  // of the earliest and latest (timestamp, id)
  int64_t open_id = 0, close_id = 0;
  int64_t max_id = 0;  // the newest price point counted
};

// What to write for a batch: bars updated in memory, and bars to recompute from price_points.
struct BarPlan {
  std::vector<Bar> updated;
  std::vector<BarKey> recompute;
  // For each of `recompute`: the newest price point id the recomputed bar counts (the newest of
  // the batch's events and of what the stored bar counted). Prices committed since, whose
  // events are still on their way, are left for those events to add: a bar recomputed while
  // the consumer runs behind must not count them, or each of their events would look repeated
  // and make it recompute again.
  std::vector<int64_t> recompute_through;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_DOMAIN_BAR_H_
