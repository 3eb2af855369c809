// SymbolWindow: the newest prices of one symbol, ordered by (timestamp, price point id), and
// the moving averages they imply. Pure logic, no I/O: the consumer seeds it from price_points and
// feeds it events.
//
// The average of window N at price point p is the arithmetic mean of the N newest prices up to and
// including p, summed from the oldest to the newest, so the value is reproducible bit for bit.
// Nothing is produced while fewer than N prices exist. Events may arrive twice or slightly out of
// order: a repeated point is recomputed (the store's upsert makes that harmless); a late point
// also recomputes the newer points whose windows now include it.
#ifndef MARKETDATA_SERVICES_AVERAGES_SYMBOL_WINDOW_H_
#define MARKETDATA_SERVICES_AVERAGES_SYMBOL_WINDOW_H_

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace marketdata {

struct PricePoint {
  int64_t id = 0;
  absl::Time timestamp;
  double price = 0;
};

struct AverageRow {
  std::string symbol;
  int window = 0;
  double value = 0;
  absl::Time timestamp;  // of the newest price in the window
  int64_t price_point_id = 0;
};

class SymbolWindow {
 public:
  // `windows`: the configured window sizes. Keeps max(windows) + `slack` points so late events
  // within the slack are still placed correctly.
  SymbolWindow(std::string symbol, std::vector<int> windows, size_t slack = 64);

  // How many points Seed() wants: the newest ones before the first event to process.
  size_t capacity() const { return capacity_; }
  // `older`: points before the first event, oldest first, at most capacity(). Fewer than
  // capacity() means that is the symbol's whole history.
  void Seed(std::vector<PricePoint> older);

  // Adds (or re-adds) a point and appends the averages to write to `out`.
  // Returns false for a point too old to place (older than everything kept in a full window).
  bool Add(const PricePoint& point, std::vector<AverageRow>* out);

  size_t size() const { return points_.size(); }

 private:
  void AveragesAt(size_t index, std::vector<AverageRow>* out) const;

  std::string symbol_;
  std::vector<int> windows_;
  size_t capacity_;
  // True while points_ holds the symbol's entire history (nothing was ever dropped).
  bool complete_ = true;
  std::deque<PricePoint> points_;  // oldest first
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_AVERAGES_SYMBOL_WINDOW_H_
