// RecentQuotes: the newest stored price of each provider and symbol, with when it was fetched,
// so that a request that accepts a quote up to some age (max_age) is answered without a provider
// call and without storing a new price. Bounded: beyond `capacity` keys the oldest entries go.
#ifndef MARKETDATA_SERVICES_PRICING_RECENT_QUOTES_H_
#define MARKETDATA_SERVICES_PRICING_RECENT_QUOTES_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/domain/quote.h"

namespace marketdata {

struct RecentQuote {
  StoredPrice price;
  absl::Duration age;  // since it was fetched
};

class RecentQuotes {
 public:
  explicit RecentQuotes(size_t capacity = 100000) : capacity_(capacity) {}

  // Remembers `price` of `key` (fetched at price.quote.fetched_at), unless a newer fetch is
  // already known.
  void Put(const std::string& key, const StoredPrice& price);

  // The price of `key` fetched at most `max_age` before `now`, if there is one.
  std::optional<RecentQuote> Get(const std::string& key, absl::Duration max_age,
                                 absl::Time now) const;

  size_t size() const;

 private:
  // Drops the entries fetched longest ago until at most `capacity_` remain (amortised: runs once
  // the map has grown by a quarter beyond it).
  void Trim() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t capacity_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, StoredPrice> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_PRICING_RECENT_QUOTES_H_
