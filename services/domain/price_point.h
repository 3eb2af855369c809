// The value types of stored prices and their averages, shared by the logic that computes
// (services/averages, services/bars) and the stores that keep them (services/storage).
#ifndef MARKETDATA_SERVICES_DOMAIN_PRICE_POINT_H_
#define MARKETDATA_SERVICES_DOMAIN_PRICE_POINT_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace marketdata {

// One row of price_points as the computations see it.
struct PricePoint {
  int64_t id = 0;
  absl::Time timestamp;
  double price = 0;
};

// One row of moving_averages: the mean of the `window` newest prices of `symbol` up to and
// including price point `price_point_id` (ordered by timestamp, then id).
struct AverageRow {
  std::string symbol;
  int window = 0;
  double value = 0;
  absl::Time timestamp;  // of the newest price in the window
  int64_t price_point_id = 0;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_DOMAIN_PRICE_POINT_H_
