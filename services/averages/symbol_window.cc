#include "services/averages/symbol_window.h"

#include <algorithm>
#include <tuple>

namespace marketdata {
namespace {

bool Before(const PricePoint& a, const PricePoint& b) {
  return std::tie(a.timestamp, a.id) < std::tie(b.timestamp, b.id);
}

}  // namespace

SymbolWindow::SymbolWindow(std::string symbol, std::vector<int> windows, size_t slack)
    : symbol_(std::move(symbol)), windows_(std::move(windows)) {
  int largest = 1;
  for (int w : windows_) largest = std::max(largest, w);
  capacity_ = static_cast<size_t>(largest) + slack;
}

void SymbolWindow::Seed(std::vector<PricePoint> older) {
  complete_ = older.size() < capacity_;
  std::sort(older.begin(), older.end(), Before);
  points_.assign(older.begin(), older.end());
}

bool SymbolWindow::Add(const PricePoint& point, std::vector<AverageRow>* out) {
  auto it = std::lower_bound(points_.begin(), points_.end(), point, Before);
  if (it != points_.end() && it->id == point.id) {  // seen before: recompute it only
    AveragesAt(static_cast<size_t>(it - points_.begin()), out);
    return true;
  }
  if (it == points_.begin() && !complete_ && !points_.empty()) return false;  // too late
  const size_t index = static_cast<size_t>(it - points_.begin());
  points_.insert(it, point);
  // The new point and every newer one whose window reaches back to it.
  int largest = 1;
  for (int w : windows_) largest = std::max(largest, w);
  const size_t last = std::min(points_.size(), index + static_cast<size_t>(largest));
  for (size_t i = index; i < last; ++i) AveragesAt(i, out);
  while (points_.size() > capacity_) {
    points_.pop_front();
    complete_ = false;
  }
  return true;
}

void SymbolWindow::AveragesAt(size_t index, std::vector<AverageRow>* out) const {
  for (int window : windows_) {
    const size_t n = static_cast<size_t>(window);
    // Without the whole history, a point near the oldest kept one may lack older neighbours.
    if (index + 1 < n) continue;
    double sum = 0;
    for (size_t i = index + 1 - n; i <= index; ++i) sum += points_[i].price;
    const PricePoint& p = points_[index];
    out->push_back(AverageRow{symbol_, window, sum / static_cast<double>(n), p.timestamp, p.id});
  }
}

}  // namespace marketdata
