// EventBatchProcessor: turns a batch of PriceEvents into the moving averages to write. Keeps the
// per-symbol windows between batches; a symbol seen for the first time (after a start or a
// rebalance) gets its window rebuilt from price_points around its first event, so a restart
// changes no result. An event its window cannot place (older than what it keeps, or beyond what
// it knows of the stored history) is averaged from its neighbours in price_points, and the newer
// averages it changes are rewritten: the results never depend on the order events arrive in.
// At most a set number of windows is kept, the least recently used symbol's dropped first: a
// dropped window is rebuilt from price_points like a first sight, so memory stays bounded under a
// stream of ever new symbols and no result changes.
#ifndef MARKETDATA_SERVICES_AVERAGES_EVENT_BATCH_H_
#define MARKETDATA_SERVICES_AVERAGES_EVENT_BATCH_H_

#include <cstddef>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "services/domain/quote.h"
#include "services/averages/symbol_window.h"
#include "services/averages/stored_prices.h"

namespace marketdata {

struct BatchResult {
  std::vector<AverageRow> averages;
  // Events averaged from their stored neighbours because their window could not place them.
  int repaired_events = 0;
};

class EventBatchProcessor {
 public:
  static constexpr size_t kDefaultMaxSymbols = 100000;

  // Keeps the windows of at most `max_symbols` symbols between batches (at least one). A batch
  // with more distinct symbols than that still holds all of its windows while it is processed.
  EventBatchProcessor(StoredPrices& store, std::vector<int> windows,
                      size_t max_symbols = kDefaultMaxSymbols);

  // Events in partition order. Fails only when the windows cannot be loaded; the batch can then
  // be retried as it is.
  absl::StatusOr<BatchResult> Process(const std::vector<StoredPrice>& events);

  // The rows of a batch were stored: a later batch that computes the same value for one of
  // them again does not write it again. A consumer reading behind the writers keeps stored
  // prices ahead of its events in its windows, and each event recomputes the averages of the
  // next few of them; most come out as already written. Call only once the rows are durable.
  void Written(const std::vector<AverageRow>& rows);

  // Forgets every window (partitions were revoked; they are rebuilt on next sight).
  void Reset() {
    windows_by_symbol_.clear();
    recency_.clear();
  }
  // The number of windows kept.
  size_t symbols() const { return windows_by_symbol_.size(); }

 private:
  struct Entry {
    std::unique_ptr<SymbolWindow> window;
    std::list<std::string>::iterator recency;  // its place in recency_
    // What this process stored for (price point id, window), while the symbol is kept.
    absl::flat_hash_map<std::pair<int64_t, int>, double> written;
  };

  // Keeps the last row of each key (the one the store keeps), minus those whose value is
  // already stored.
  void DropUnchanged(std::vector<AverageRow>* rows) const;

  // An event its window could not place.
  struct Refused {
    PointRef ref;
    PricePoint point;
  };

  absl::StatusOr<BatchResult> ProcessKept(const std::vector<StoredPrice>& events);
  // Averages `r` from its stored neighbours `n`; a point past its window's newest moves the
  // window to the stored run around it.
  void PlaceFromStorage(const Refused& r, Neighbours& n, size_t capacity, BatchResult* result);
  // Seeds `window` with the stored run `n` (around `point`, when given).
  void SeedAround(SymbolWindow& window, Neighbours& n, const PricePoint* point,
                  size_t capacity) const;
  // The window of a kept symbol, marked as the most recently used.
  SymbolWindow& Use(const std::string& symbol);
  void Keep(const std::string& symbol, std::unique_ptr<SymbolWindow> window);
  // Drops the least recently used windows beyond max_symbols_.
  void Trim();

  StoredPrices& store_;
  std::vector<int> windows_;
  size_t max_symbols_;
  absl::flat_hash_map<std::string, Entry> windows_by_symbol_;
  std::list<std::string> recency_;  // the kept symbols, most recently used first
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_AVERAGES_EVENT_BATCH_H_
