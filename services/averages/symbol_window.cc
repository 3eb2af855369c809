#include "services/averages/symbol_window.h"

#include <algorithm>
#include <tuple>

namespace marketdata {
namespace {

bool Before(const PricePoint& a, const PricePoint& b) {
  return std::tie(a.timestamp, a.id) < std::tie(b.timestamp, b.id);
}

int Largest(const std::vector<int>& windows) {
  int largest = 1;
  for (int w : windows) largest = std::max(largest, w);
  return largest;
}

// The averages at points[index] for every window that has enough older points in `points`.
template <typename Points>
void AveragesAt(const std::string& symbol, const std::vector<int>& windows, const Points& points,
                size_t index, std::vector<AverageRow>* out) {
  for (int window : windows) {
    const size_t n = static_cast<size_t>(window);
    // Without the whole history, a point near the oldest kept one may lack older neighbours.
    if (index + 1 < n) continue;
    double sum = 0;
    for (size_t i = index + 1 - n; i <= index; ++i) sum += points[i].price;
    const PricePoint& p = points[index];
    out->push_back(AverageRow{symbol, window, sum / static_cast<double>(n), p.timestamp, p.id});
  }
}

}  // namespace

SymbolWindow::SymbolWindow(std::string symbol, std::vector<int> windows, size_t slack)
    : symbol_(std::move(symbol)), windows_(std::move(windows)), largest_(Largest(windows_)) {
  capacity_ = static_cast<size_t>(largest_) + slack;
}

void SymbolWindow::Seed(std::vector<PricePoint> points, bool history_complete,
                        bool future_complete) {
  complete_ = history_complete;
  future_complete_ = future_complete;
  std::sort(points.begin(), points.end(), Before);
  points_.assign(points.begin(), points.end());
  seen_.assign(points_.size(), false);
}

bool SymbolWindow::IsNewest(const PricePoint& point) const {
  return points_.empty() || Before(points_.back(), point);
}

bool SymbolWindow::Add(const PricePoint& point, std::vector<AverageRow>* out) {
  auto it = std::lower_bound(points_.begin(), points_.end(), point, Before);
  const size_t index = static_cast<size_t>(it - points_.begin());
  // Once older points were dropped, the first largest - 1 kept ones lack neighbours some window
  // needs: their averages must come from storage.
  const bool near_front = !complete_ && index + 1 < static_cast<size_t>(largest_);
  if (it != points_.end() && it->id == point.id) {
    if (seen_[index]) {  // a repeated event: the same values again
      AveragesAt(symbol_, windows_, points_, index, out);
      return true;
    }
    if (near_front) return false;
    // Seeded from storage: the newer points may have been averaged without it.
    seen_[index] = true;
  } else {
    if (near_front && !points_.empty()) return false;  // too old to average from memory
    if (it == points_.end() && !future_complete_) return false;  // stored points may lie between
    points_.insert(it, point);
    seen_.insert(seen_.begin() + static_cast<std::ptrdiff_t>(index), true);
  }
  // The new point and every newer one whose window reaches back to it.
  const size_t last = std::min(points_.size(), index + static_cast<size_t>(largest_));
  for (size_t i = index; i < last; ++i) AveragesAt(symbol_, windows_, points_, i, out);
  while (points_.size() > capacity_) {
    points_.pop_front();
    seen_.pop_front();
    complete_ = false;
  }
  return true;
}

void SymbolWindow::AveragesAround(const std::string& symbol, const std::vector<int>& windows,
                                  const std::vector<PricePoint>& before, const PricePoint& point,
                                  const std::vector<PricePoint>& after,
                                  std::vector<AverageRow>* out) {
  std::vector<PricePoint> points = before;
  points.push_back(point);
  points.insert(points.end(), after.begin(), after.end());
  std::sort(points.begin(), points.end(), Before);
  const size_t index = static_cast<size_t>(
      std::lower_bound(points.begin(), points.end(), point, Before) - points.begin());
  // `before` holds at least largest - 1 points or the whole history, so every window of the
  // points from `index` on is either whole or the symbol's whole history.
  const size_t last = std::min(points.size(), index + static_cast<size_t>(Largest(windows)));
  for (size_t i = index; i < last; ++i) AveragesAt(symbol, windows, points, i, out);
}

std::optional<AverageRow> AverageOfNewest(const std::string& symbol, int window,
                                          const std::vector<PricePoint>& newest_first) {
  if (window < 1 || newest_first.size() < static_cast<size_t>(window)) return std::nullopt;
  const std::vector<PricePoint> oldest_first(newest_first.rend() - window, newest_first.rend());
  std::vector<AverageRow> out;
  AveragesAt(symbol, {window}, oldest_first, oldest_first.size() - 1, &out);
  return out.front();
}

}  // namespace marketdata
