// OHLCV bars over price_points (pure logic, no I/O). A bar holds the prices of one symbol whose
// timestamp falls in [start, start + interval), buckets aligned to the Unix epoch. Open is the
// price of the earliest (timestamp, id), close that of the latest; high and low the extremes;
// volume the sum of the volumes reported with the prices (unset when none was).
//
// Events may come late, out of order or twice. A bar records the newest price point id it
// counts (max_id): a price point with a larger id has never been counted, so it is added to the
// bar; one with a smaller or equal id may have been, so that bar is recomputed from price_points
// instead, counting the prices up to the newest id the batch or the bar knows (prices stored
// since will come as events of their own). Either way the stored bar equals the one computed
// from price_points up to its max_id.
#ifndef MARKETDATA_SERVICES_BARS_BARS_H_
#define MARKETDATA_SERVICES_BARS_BARS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/domain/quote.h"
#include "services/domain/bar.h"

namespace marketdata {

// The start of the bucket of `interval_seconds` holding `ts` (floored to a multiple of the
// interval since the epoch).
absl::Time BucketStart(absl::Time ts, int interval_seconds);

// "1m" -> 60, "5m" -> 300, "1h" -> 3600, "1d" -> 86400 ("<n>s", "<n>m", "<n>h", "<n>d"), at
// most a day; anything else is INVALID_ARGUMENT.
absl::StatusOr<int> ParseBarInterval(absl::string_view text);
// 60 -> "1m", 300 -> "5m", 3600 -> "1h", 90 -> "90s": the shortest exact spelling.
std::string BarIntervalName(int seconds);

// Adds `events` to the bars they touch, given the stored bars (`current`, missing when none).
// A bar whose new events all have ids beyond its max_id (or that does not exist yet) is updated
// here; any other goes to `recompute`.
BarPlan PlanBars(const std::vector<StoredPrice>& events, const std::vector<int>& intervals,
                 const absl::flat_hash_map<BarKey, Bar>& current);

// The bars of a batch's events alone (deltas), for the store to merge into the stored bars
// without reading them first. Merging a delta is exact when none of its prices is counted yet,
// which the store checks as "the stored max_id is below the delta's smallest id". So a delta is
// mergeable when its ids are distinct and its smallest id is also its open_id (its earliest price
// by timestamp has the smallest id: prices of one symbol arriving in time order, the usual case),
// and the check reads open_id. The keys of the others are listed apart, for PlanBars.
struct BarDeltas {
  std::vector<Bar> mergeable;
  std::vector<BarKey> others;
};
BarDeltas PlanDeltas(const std::vector<StoredPrice>& events, const std::vector<int>& intervals);

// `stored` with a mergeable `delta` of the same key added, as the store merges them (its SQL
// follows this): the caller has checked stored.max_id < delta.open_id.
Bar MergeBars(const Bar& stored, const Bar& delta);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_BARS_BARS_H_
