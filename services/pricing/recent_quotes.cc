#include "services/pricing/recent_quotes.h"

#include <algorithm>
#include <vector>

namespace marketdata {

void RecentQuotes::Put(const std::string& key, const StoredPrice& price) {
  absl::MutexLock lock(&mu_);
  auto [it, added] = entries_.try_emplace(key, price);
  if (!added) {
    // A newer fetch answered first.
    if (it->second.quote.fetched_at > price.quote.fetched_at) return;
    it->second = price;
  }
  if (entries_.size() > capacity_ + capacity_ / 4) Trim();
}

std::optional<RecentQuote> RecentQuotes::Get(const std::string& key, absl::Duration max_age,
                                             absl::Time now) const {
  absl::MutexLock lock(&mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  const absl::Duration age = std::max(absl::ZeroDuration(), now - it->second.quote.fetched_at);
  if (age > max_age) return std::nullopt;
  return RecentQuote{it->second, age};
}

size_t RecentQuotes::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

void RecentQuotes::Trim() {
  std::vector<absl::Time> times;
  times.reserve(entries_.size());
  for (const auto& [key, price] : entries_) times.push_back(price.quote.fetched_at);
  const size_t drop = entries_.size() - capacity_;
  std::nth_element(times.begin(), times.begin() + static_cast<std::ptrdiff_t>(drop - 1),
                   times.end());
  const absl::Time cutoff = times[drop - 1];  // entries fetched at or before it go
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.quote.fetched_at <= cutoff) {
      entries_.erase(it++);
    } else {
      ++it;
    }
  }
}

}  // namespace marketdata
