#include "services/averages/event_batch.h"

#include "absl/container/flat_hash_set.h"
#include "services/common/proto_time.h"

namespace marketdata {

EventBatchProcessor::EventBatchProcessor(MovingAverageStore& store, std::vector<int> windows)
    : store_(store), windows_(std::move(windows)) {}

absl::StatusOr<BatchResult> EventBatchProcessor::Process(
    const std::vector<v1::PriceEvent>& events) {
  // Rebuild, in one query, the windows of symbols seen for the first time: each from the
  // prices before its first event in this batch.
  std::vector<WindowStart> starts;
  absl::flat_hash_set<std::string> starting;
  for (const v1::PriceEvent& e : events) {
    if (windows_by_symbol_.contains(e.symbol()) || !starting.insert(e.symbol()).second) continue;
    starts.push_back(
        WindowStart{e.symbol(), FromProtoTimestamp(e.timestamp()), e.price_point_id()});
  }
  if (!starts.empty()) {
    const size_t capacity = SymbolWindow(std::string(), windows_).capacity();
    absl::StatusOr<std::vector<std::vector<PricePoint>>> loaded =
        store_.LoadWindows(starts, capacity);
    if (!loaded.ok()) return loaded.status();
    for (size_t i = 0; i < starts.size(); ++i) {
      auto window = std::make_unique<SymbolWindow>(starts[i].symbol, windows_);
      window->Seed(std::move((*loaded)[i]));
      windows_by_symbol_[starts[i].symbol] = std::move(window);
    }
  }
  BatchResult result;
  for (const v1::PriceEvent& e : events) {
    SymbolWindow& window = *windows_by_symbol_[e.symbol()];
    PricePoint point{e.price_point_id(), FromProtoTimestamp(e.timestamp()), e.price()};
    if (!window.Add(point, &result.averages)) ++result.late_events;
  }
  return result;
}

}  // namespace marketdata
