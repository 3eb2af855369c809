#include "services/averages/event_batch.h"

#include <algorithm>
#include <tuple>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"

namespace marketdata {

EventBatchProcessor::EventBatchProcessor(StoredPrices& store, std::vector<int> windows,
                                         size_t max_symbols)
    : store_(store), windows_(std::move(windows)), max_symbols_(std::max<size_t>(max_symbols, 1)) {}

absl::StatusOr<BatchResult> EventBatchProcessor::Process(
    const std::vector<StoredPrice>& events) {
  // Trimmed only once the batch is done, whether it succeeded or not: every window the batch
  // touches must stay until then.
  absl::StatusOr<BatchResult> result = ProcessKept(events);
  if (result.ok()) DropUnchanged(&result->averages);
  Trim();
  return result;
}

void EventBatchProcessor::DropUnchanged(std::vector<AverageRow>* rows) const {
  // From the last row back: a key's last row is the one the store keeps.
  std::vector<bool> keep(rows->size(), false);
  absl::flat_hash_set<std::tuple<absl::string_view, int64_t, int>> seen;
  for (size_t i = rows->size(); i-- > 0;) {
    const AverageRow& r = (*rows)[i];
    if (!seen.insert({r.symbol, r.price_point_id, r.window}).second) continue;
    auto entry = windows_by_symbol_.find(r.symbol);
    if (entry != windows_by_symbol_.end()) {
      auto stored = entry->second.written.find({r.price_point_id, r.window});
      if (stored != entry->second.written.end() && stored->second == r.value) continue;
    }
    keep[i] = true;
  }
  seen.clear();  // it points into the rows moved below
  size_t kept = 0;
  for (size_t i = 0; i < rows->size(); ++i) {
    if (!keep[i]) continue;
    if (kept != i) (*rows)[kept] = std::move((*rows)[i]);
    ++kept;
  }
  rows->resize(kept);
}

void EventBatchProcessor::Written(const std::vector<AverageRow>& rows) {
  for (const AverageRow& r : rows) {
    auto entry = windows_by_symbol_.find(r.symbol);
    if (entry == windows_by_symbol_.end()) continue;
    auto& written = entry->second.written;
    // Bounded: a few windows' worth per symbol; forgetting only means writing again.
    if (written.size() >= 8 * entry->second.window->capacity() * windows_.size()) written.clear();
    written[{r.price_point_id, r.window}] = r.value;
  }
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

void EventBatchProcessor::PlaceFromStorage(const Refused& r, Neighbours& n, size_t capacity,
                                           BatchResult* result) {
  SymbolWindow::AveragesAround(r.ref.symbol, windows_, n.before, r.point, n.after,
                               &result->averages);
  ++result->repaired_events;
  SymbolWindow& window = *windows_by_symbol_.at(r.ref.symbol).window;
  // Ahead of what the window knew: move it to this stored run, so the events that follow are
  // placed in memory again.
  if (window.IsNewest(r.point)) SeedAround(window, n, &r.point, capacity);
}

void EventBatchProcessor::SeedAround(SymbolWindow& window, Neighbours& n, const PricePoint* point,
                                     size_t capacity) const {
  const bool history_complete = n.before.size() < capacity;
  bool future_complete = n.after.size() < capacity;
  // The window keeps `capacity` points and drops the oldest as events add more; each event
  // needs max(windows) - 1 points before it. Seeding more points ahead than that leaves room
  // for would drop the ones their averages need.
  const size_t ahead = capacity + 1 - static_cast<size_t>(*std::max_element(windows_.begin(),
                                                                             windows_.end()));
  if (n.after.size() > ahead) {
    n.after.resize(ahead);
    future_complete = false;
  }
  std::vector<PricePoint> points = std::move(n.before);
  if (point != nullptr) points.push_back(*point);
  points.insert(points.end(), n.after.begin(), n.after.end());
  window.Seed(std::move(points), history_complete, future_complete);
}

absl::StatusOr<BatchResult> EventBatchProcessor::ProcessKept(
    const std::vector<StoredPrice>& events) {
  const size_t capacity = SymbolWindow(std::string(), windows_).capacity();
  // Rebuild, in one query, the windows of symbols seen for the first time: each from the stored
  // prices around its first event in this batch.
  std::vector<PointRef> starts;
  absl::flat_hash_set<std::string> starting;
  for (const StoredPrice& e : events) {
    if (windows_by_symbol_.contains(e.quote.symbol) || !starting.insert(e.quote.symbol).second) continue;
    starts.push_back(PointRef{e.quote.symbol, e.quote.timestamp, e.price_point_id});
  }
  if (!starts.empty()) {
    absl::StatusOr<std::vector<Neighbours>> loaded = store_.LoadNeighbours(starts, capacity);
    if (!loaded.ok()) return loaded.status();
    for (size_t i = 0; i < starts.size(); ++i) {
      Neighbours& n = (*loaded)[i];
      auto window = std::make_unique<SymbolWindow>(starts[i].symbol, windows_);
      SeedAround(*window, n, nullptr, capacity);
      Keep(starts[i].symbol, std::move(window));
    }
  }
  BatchResult result;
  std::vector<Refused> refused;  // in batch order
  for (const StoredPrice& e : events) {
    PricePoint point{e.price_point_id, e.quote.timestamp, e.quote.price};
    if (!Use(e.quote.symbol).Add(point, &result.averages)) {
      refused.push_back(Refused{PointRef{e.quote.symbol, point.timestamp, point.id}, point});
    }
  }
  // A consumer that runs behind the writers sees events past the stored run its window was
  // seeded with. The first such event of each symbol is averaged from storage and its window
  // moved to the stored run around it; that run holds the events that follow, which then go
  // through memory again. So a symbol costs one query per window's worth of events, not one
  // per event, however far behind the consumer is.
  while (!refused.empty()) {
    std::vector<PointRef> heads;
    std::vector<size_t> head_index;  // where each head is in `refused`
    absl::flat_hash_set<std::string> moved;
    for (size_t i = 0; i < refused.size(); ++i) {
      const Refused& r = refused[i];
      if (moved.contains(r.ref.symbol) ||
          !windows_by_symbol_.at(r.ref.symbol).window->IsNewest(r.point)) {
        continue;
      }
      moved.insert(r.ref.symbol);
      heads.push_back(r.ref);
      head_index.push_back(i);
    }
    if (heads.empty()) break;
    absl::StatusOr<std::vector<Neighbours>> around = store_.LoadNeighbours(heads, capacity);
    if (!around.ok()) return around.status();
    std::vector<Refused> still_refused;
    size_t next_head = 0;
    for (size_t i = 0; i < refused.size(); ++i) {
      Refused& r = refused[i];
      if (next_head < head_index.size() && head_index[next_head] == i) {
        PlaceFromStorage(r, (*around)[next_head++], capacity, &result);
      } else if (!moved.contains(r.ref.symbol) ||
                 !windows_by_symbol_.at(r.ref.symbol).window->Add(r.point, &result.averages)) {
        still_refused.push_back(std::move(r));
      }
    }
    refused = std::move(still_refused);
  }
  if (refused.empty()) return result;
  // What is left is older than its window keeps: averaged from price_points, after the
  // in-memory rows: for a key written twice in a batch the last row wins, and these are
  // computed from the stored truth.
  std::vector<PointRef> refs;
  refs.reserve(refused.size());
  for (const Refused& r : refused) refs.push_back(r.ref);
  absl::StatusOr<std::vector<Neighbours>> around = store_.LoadNeighbours(refs, capacity);
  if (!around.ok()) return around.status();
  for (size_t i = 0; i < refused.size(); ++i) {
    PlaceFromStorage(refused[i], (*around)[i], capacity, &result);
  }
  return result;
}

}  // namespace marketdata
