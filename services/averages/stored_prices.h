// StoredPrices: what the averaging logic reads of price_points, as the interface the storage
// layer implements (PostgresMovingAverageStore), so that this folder needs no storage code.
#ifndef MARKETDATA_SERVICES_AVERAGES_STORED_PRICES_H_
#define MARKETDATA_SERVICES_AVERAGES_STORED_PRICES_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/domain/price_point.h"

namespace marketdata {

// A price point of a symbol, by its place in the symbol's order (timestamp, id).
struct PointRef {
  std::string symbol;
  absl::Time timestamp;
  int64_t id = 0;
};

// The stored points on either side of a PointRef, each oldest first; the point itself is in
// neither.
struct Neighbours {
  std::vector<PricePoint> before;  // the newest ones before it
  std::vector<PricePoint> after;   // the oldest ones after it
};

class StoredPrices {
 public:
  virtual ~StoredPrices() = default;
  // For each reference, up to `limit` stored price points on each side of it, in one round trip.
  virtual absl::StatusOr<std::vector<Neighbours>> LoadNeighbours(
      const std::vector<PointRef>& points, size_t limit) = 0;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_AVERAGES_STORED_PRICES_H_
