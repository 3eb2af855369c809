// SymbolWindow: the newest prices of one symbol, ordered by (timestamp, price point id), and
// the moving averages they imply. Pure logic, no I/O: the consumer seeds it from price_points and
// feeds it events.
//
// The average of window N at price point p is the arithmetic mean of the N newest prices up to and
// including p, summed from the oldest to the newest, so the value is reproducible bit for bit.
// Nothing is produced while fewer than N prices exist. Events may arrive twice or in any order: a
// repeated point is recomputed (the store's upsert makes that harmless); a late point also
// recomputes the newer points whose windows now include it. A point older than everything a full
// window keeps is refused by Add(); the caller then reads its neighbours from price_points and
// calls AveragesAround(), so no point is ever left without its averages.
#ifndef MARKETDATA_SERVICES_AVERAGES_SYMBOL_WINDOW_H_
#define MARKETDATA_SERVICES_AVERAGES_SYMBOL_WINDOW_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "services/domain/price_point.h"

namespace marketdata {

class SymbolWindow {
 public:
  // `windows`: the configured window sizes. Keeps max(windows) + `slack` points so late events
  // within the slack are still placed correctly.
  SymbolWindow(std::string symbol, std::vector<int> windows, size_t slack = 64);

  // How many stored points Seed() wants on each side of the first event to process.
  size_t capacity() const { return capacity_; }
  // Seeds the window with stored points around the first event to process: a contiguous run of
  // the symbol's history, in any order. `history_complete`: nothing older is stored (fewer than
  // capacity() points were found before the event). `future_complete`: nothing newer is stored
  // (fewer than capacity() after it). Seeded points count as not yet seen: their events may
  // still come, and their averages may have been written without a point that arrives late.
  void Seed(std::vector<PricePoint> points, bool history_complete = true,
            bool future_complete = true);

  // Adds (or re-adds) a point and appends the averages to write to `out`: its own and those of
  // the newer points whose windows include it. Returns false, with nothing appended, for a point
  // the window cannot place: older than everything kept once older points were dropped, or newer
  // than everything kept while stored points beyond the seeded ones may exist.
  bool Add(const PricePoint& point, std::vector<AverageRow>* out);

  // True when `point` is newer than every kept point.
  bool IsNewest(const PricePoint& point) const;

  size_t size() const { return points_.size(); }

  // The averages of `point` and of the newer points whose windows include it, from its stored
  // neighbours, for points Add() refuses. `before`: the newest stored points before it, at least
  // max(windows) - 1 of them unless that is the symbol's whole history. `after`: the oldest
  // stored points after it (max(windows) - 1 of them are enough). Any order.
  static void AveragesAround(const std::string& symbol, const std::vector<int>& windows,
                             const std::vector<PricePoint>& before, const PricePoint& point,
                             const std::vector<PricePoint>& after, std::vector<AverageRow>* out);

 private:
  std::string symbol_;
  std::vector<int> windows_;
  int largest_ = 1;
  size_t capacity_;
  // True while points_ holds the symbol's entire history (nothing was ever dropped).
  bool complete_ = true;
  // False while stored points newer than points_ may exist that no event has brought yet (the
  // seed was cut at capacity()).
  bool future_complete_ = true;
  std::deque<PricePoint> points_;  // oldest first
  std::deque<bool> seen_;          // per point: its event was added (not only seeded)
};

// The average of `window` at the newest of `newest_first` (a symbol's newest stored prices, newest
// first), by the rule above; nullopt when fewer than `window` prices are given. For windows the
// consumer does not keep, computed when asked.
std::optional<AverageRow> AverageOfNewest(const std::string& symbol, int window,
                                          const std::vector<PricePoint>& newest_first);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_AVERAGES_SYMBOL_WINDOW_H_
