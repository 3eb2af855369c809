#include "services/averages/event_batch.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "services/common/proto_time.h"

namespace marketdata {

EventBatchProcessor::EventBatchProcessor(StoredPrices& store, std::vector<int> windows,
                                         size_t max_symbols)
    : store_(store), windows_(std::move(windows)), max_symbols_(std::max<size_t>(max_symbols, 1)) {}

absl::StatusOr<BatchResult> EventBatchProcessor::Process(
    const std::vector<v1::PriceEvent>& events) {
  // Trimmed only once the batch is done, whether it succeeded or not: every window the batch
  // touches must stay until then.
  absl::StatusOr<BatchResult> result = ProcessKept(events);
  Trim();
  return result;
}

SymbolWindow& EventBatchProcessor::Use(const std::string& symbol) {
  Entry& entry = windows_by_symbol_.at(symbol);
  recency_.splice(recency_.begin(), recency_, entry.recency);
  return *entry.window;
}

void EventBatchProcessor::Keep(const std::string& symbol, std::unique_ptr<SymbolWindow> window) {
  auto [it, inserted] = windows_by_symbol_.try_emplace(symbol);
  if (inserted) {
    recency_.push_front(symbol);
    it->second.recency = recency_.begin();
  } else {
    recency_.splice(recency_.begin(), recency_, it->second.recency);
  }
  it->second.window = std::move(window);
}

void EventBatchProcessor::Trim() {
  while (windows_by_symbol_.size() > max_symbols_) {
    windows_by_symbol_.erase(recency_.back());
    recency_.pop_back();
  }
}

absl::StatusOr<BatchResult> EventBatchProcessor::ProcessKept(
    const std::vector<v1::PriceEvent>& events) {
  const size_t capacity = SymbolWindow(std::string(), windows_).capacity();
  // Rebuild, in one query, the windows of symbols seen for the first time: each from the stored
  // prices around its first event in this batch.
  std::vector<PointRef> starts;
  absl::flat_hash_set<std::string> starting;
  for (const v1::PriceEvent& e : events) {
    if (windows_by_symbol_.contains(e.symbol()) || !starting.insert(e.symbol()).second) continue;
    starts.push_back(PointRef{e.symbol(), FromProtoTimestamp(e.timestamp()), e.price_point_id()});
  }
  if (!starts.empty()) {
    absl::StatusOr<std::vector<Neighbours>> loaded = store_.LoadNeighbours(starts, capacity);
    if (!loaded.ok()) return loaded.status();
    for (size_t i = 0; i < starts.size(); ++i) {
      Neighbours& n = (*loaded)[i];
      auto window = std::make_unique<SymbolWindow>(starts[i].symbol, windows_);
      const bool history_complete = n.before.size() < capacity;
      const bool future_complete = n.after.size() < capacity;
      std::vector<PricePoint> points = std::move(n.before);
      points.insert(points.end(), n.after.begin(), n.after.end());
      window->Seed(std::move(points), history_complete, future_complete);
      Keep(starts[i].symbol, std::move(window));
    }
  }
  BatchResult result;
  std::vector<PricePoint> refused;
  std::vector<PointRef> refused_refs;
  for (const v1::PriceEvent& e : events) {
    SymbolWindow& window = Use(e.symbol());
    PricePoint point{e.price_point_id(), FromProtoTimestamp(e.timestamp()), e.price()};
    if (!window.Add(point, &result.averages)) {
      refused.push_back(point);
      refused_refs.push_back(PointRef{e.symbol(), point.timestamp, point.id});
    }
  }
  if (refused.empty()) return result;
  // Averaged from price_points, after the in-memory rows: for a key written twice in a batch the
  // last row wins, and these are computed from the stored truth.
  absl::StatusOr<std::vector<Neighbours>> around = store_.LoadNeighbours(refused_refs, capacity);
  if (!around.ok()) return around.status();
  for (size_t i = 0; i < refused.size(); ++i) {
    const std::string& symbol = refused_refs[i].symbol;
    Neighbours& n = (*around)[i];
    SymbolWindow::AveragesAround(symbol, windows_, n.before, refused[i], n.after,
                                 &result.averages);
    SymbolWindow& window = *windows_by_symbol_.at(symbol).window;
    if (window.IsNewest(refused[i])) {
      // Ahead of what the window knew: move it to this stored run, so the events that follow
      // are placed in memory again.
      const bool history_complete = n.before.size() < capacity;
      const bool future_complete = n.after.size() < capacity;
      std::vector<PricePoint> points = std::move(n.before);
      points.push_back(refused[i]);
      points.insert(points.end(), n.after.begin(), n.after.end());
      window.Seed(std::move(points), history_complete, future_complete);
    }
  }
  result.repaired_events = static_cast<int>(refused.size());
  return result;
}

}  // namespace marketdata
