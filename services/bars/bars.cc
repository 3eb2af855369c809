#include "services/bars/bars.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace marketdata {
namespace {

constexpr int kMaxIntervalSeconds = 86400;

// The order of prices within a bar: timestamp, then id.
bool Before(absl::Time ts_a, int64_t id_a, absl::Time ts_b, int64_t id_b) {
  return std::tie(ts_a, id_a) < std::tie(ts_b, id_b);
}

void Add(Bar& bar, const StoredPrice& e, absl::Time ts) {
  const int64_t id = e.price_point_id;
  if (bar.price_count == 0) {
    bar.open = bar.high = bar.low = bar.close = e.quote.price;
    bar.open_ts = bar.close_ts = ts;
    bar.open_id = bar.close_id = id;
  } else {
    if (Before(ts, id, bar.open_ts, bar.open_id)) {
      bar.open = e.quote.price;
      bar.open_ts = ts;
      bar.open_id = id;
    }
    if (Before(bar.close_ts, bar.close_id, ts, id)) {
      bar.close = e.quote.price;
      bar.close_ts = ts;
      bar.close_id = id;
    }
    bar.high = std::max(bar.high, e.quote.price);
    bar.low = std::min(bar.low, e.quote.price);
  }
  ++bar.price_count;
  if (e.quote.volume.has_value()) bar.volume = bar.volume.value_or(0) + *e.quote.volume;
  bar.max_id = std::max(bar.max_id, id);
}

}  // namespace

absl::Time BucketStart(absl::Time ts, int interval_seconds) {
  const int64_t us = absl::ToUnixMicros(ts);
  const int64_t width = int64_t{interval_seconds} * 1000000;
  int64_t start = us / width * width;
  if (us < 0 && start != us) start -= width;  // floor, not truncation, before 1970
  return absl::FromUnixMicros(start);
}

absl::StatusOr<int> ParseBarInterval(absl::string_view text) {
  int64_t n = 0;
  int64_t unit = 0;
  if (text.size() >= 2) {
    switch (text.back()) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
    }
  }
  const absl::string_view digits = text.substr(0, text.empty() ? 0 : text.size() - 1);
  const bool all_digits = !digits.empty() && digits.front() != '0' &&
                          std::all_of(digits.begin(), digits.end(),
                                      [](char c) { return c >= '0' && c <= '9'; });
  if (unit == 0 || !all_digits || !absl::SimpleAtoi(digits, &n) || n * unit > kMaxIntervalSeconds) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid interval \"", text.substr(0, 16),
                     "\": a number and s, m, h or d, at most a day (e.g. 1m, 5m, 1h)"));
  }
  return static_cast<int>(n * unit);
}

std::string BarIntervalName(int seconds) {
  if (seconds % 86400 == 0) return absl::StrCat(seconds / 86400, "d");
  if (seconds % 3600 == 0) return absl::StrCat(seconds / 3600, "h");
  if (seconds % 60 == 0) return absl::StrCat(seconds / 60, "m");
  return absl::StrCat(seconds, "s");
}

std::vector<BarKey> TouchedBars(const std::vector<StoredPrice>& events,
                                const std::vector<int>& intervals) {
  absl::flat_hash_set<BarKey> seen;
  std::vector<BarKey> keys;
  for (const StoredPrice& e : events) {
    const absl::Time ts = e.quote.timestamp;
    for (int interval : intervals) {
      BarKey key{e.quote.symbol, interval, BucketStart(ts, interval)};
      if (seen.insert(key).second) keys.push_back(std::move(key));
    }
  }
  return keys;
}

BarPlan PlanBars(const std::vector<StoredPrice>& events, const std::vector<int>& intervals,
                 const absl::flat_hash_map<BarKey, Bar>& current) {
  // The batch's events of each bar, in arrival order.
  absl::flat_hash_map<BarKey, std::vector<const StoredPrice*>> by_bar;
  std::vector<BarKey> order;
  for (const StoredPrice& e : events) {
    const absl::Time ts = e.quote.timestamp;
    for (int interval : intervals) {
      BarKey key{e.quote.symbol, interval, BucketStart(ts, interval)};
      auto [it, added] = by_bar.try_emplace(key);
      if (added) order.push_back(key);
      it->second.push_back(&e);
    }
  }
  BarPlan plan;
  for (const BarKey& key : order) {
    std::vector<const StoredPrice*>& bar_events = by_bar[key];
    Bar bar;
    bar.key = key;
    auto stored = current.find(key);
    if (stored != current.end()) bar = stored->second;
    // Within the batch an id may come twice (a record delivered twice), or below one already
    // added: both would need to know what the bar counts, so the bar is recomputed.
    std::sort(bar_events.begin(), bar_events.end(),
              [](const StoredPrice* a, const StoredPrice* b) {
                return a->price_point_id < b->price_point_id;
              });
    bool addable = true;
    int64_t last = bar.max_id;
    for (const StoredPrice* e : bar_events) {
      if (e->price_point_id <= last) {
        addable = false;
        break;
      }
      last = e->price_point_id;
    }
    if (!addable) {
      int64_t through = bar.max_id;
      for (const StoredPrice* e : bar_events) through = std::max(through, e->price_point_id);
      plan.recompute.push_back(key);
      plan.recompute_through.push_back(through);
      continue;
    }
    for (const StoredPrice* e : bar_events) Add(bar, *e, e->quote.timestamp);
    plan.updated.push_back(std::move(bar));
  }
  return plan;
}

BarDeltas PlanDeltas(const std::vector<StoredPrice>& events, const std::vector<int>& intervals) {
  BarPlan plan = PlanBars(events, intervals, {});
  // The smallest id of each bar's events.
  absl::flat_hash_map<BarKey, int64_t> smallest;
  for (const StoredPrice& e : events) {
    for (int interval : intervals) {
      auto [it, added] = smallest.try_emplace(
          BarKey{e.quote.symbol, interval, BucketStart(e.quote.timestamp, interval)},
          e.price_point_id);
      if (!added) it->second = std::min(it->second, e.price_point_id);
    }
  }
  BarDeltas deltas;
  deltas.others = std::move(plan.recompute);  // an id twice in the batch
  for (Bar& bar : plan.updated) {
    if (bar.open_id == smallest[bar.key]) {
      deltas.mergeable.push_back(std::move(bar));
    } else {
      deltas.others.push_back(std::move(bar.key));
    }
  }
  return deltas;
}

Bar MergeBars(const Bar& stored, const Bar& delta) {
  Bar bar = stored;
  if (Before(delta.open_ts, delta.open_id, stored.open_ts, stored.open_id)) {
    bar.open = delta.open;
    bar.open_ts = delta.open_ts;
    bar.open_id = delta.open_id;
  }
  if (Before(stored.close_ts, stored.close_id, delta.close_ts, delta.close_id)) {
    bar.close = delta.close;
    bar.close_ts = delta.close_ts;
    bar.close_id = delta.close_id;
  }
  bar.high = std::max(stored.high, delta.high);
  bar.low = std::min(stored.low, delta.low);
  bar.price_count = stored.price_count + delta.price_count;
  if (delta.volume.has_value()) bar.volume = stored.volume.value_or(0) + *delta.volume;
  bar.max_id = std::max(stored.max_id, delta.max_id);
  return bar;
}

}  // namespace marketdata
