// EventBatchProcessor: turns a batch of PriceEvents into the moving averages to write. Keeps the
// per-symbol windows between batches; a symbol seen for the first time (after a start or a
// rebalance) gets its window rebuilt from price_points around its first event, so a restart
// changes no result. An event its window cannot place (older than what it keeps, or beyond what
// it knows of the stored history) is averaged from its neighbours in price_points, and the newer
// averages it changes are rewritten: the results never depend on the order events arrive in.
#ifndef MARKETDATA_SERVICES_AVERAGES_EVENT_BATCH_H_
#define MARKETDATA_SERVICES_AVERAGES_EVENT_BATCH_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "proto/marketdata/v1/events.pb.h"
#include "services/events/price_event.h"
#include "services/averages/symbol_window.h"
#include "services/storage/moving_average_store.h"

namespace marketdata {

struct BatchResult {
  std::vector<AverageRow> averages;
  // Events averaged from their stored neighbours because their window could not place them.
  int repaired_events = 0;
};

class EventBatchProcessor {
 public:
  EventBatchProcessor(MovingAverageStore& store, std::vector<int> windows);

  // Events in partition order. Fails only when the windows cannot be loaded; the batch can then
  // be retried as it is.
  absl::StatusOr<BatchResult> Process(const std::vector<v1::PriceEvent>& events);

  // Forgets every window (partitions were revoked; they are rebuilt on next sight).
  void Reset() { windows_by_symbol_.clear(); }
  size_t symbols() const { return windows_by_symbol_.size(); }

 private:
  MovingAverageStore& store_;
  std::vector<int> windows_;
  absl::flat_hash_map<std::string, std::unique_ptr<SymbolWindow>> windows_by_symbol_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_AVERAGES_EVENT_BATCH_H_
