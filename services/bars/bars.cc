#include "services/bars/bars.h"

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_map.h"
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

// A batch's events by the bar of each interval they fall in, the bars in order of first sight.
struct ByBar {
  std::vector<BarKey> order;
  absl::flat_hash_map<BarKey, std::vector<const StoredPrice*>> events;
};

ByBar GroupByBar(const std::vector<StoredPrice>& events, const std::vector<int>& intervals) {
  ByBar by_bar;
  for (const StoredPrice& e : events) {
    const absl::Time ts = e.quote.timestamp;
    for (int interval : intervals) {
      BarKey key{e.quote.symbol, interval, BucketStart(ts, interval)};
      auto [it, added] = by_bar.events.try_emplace(key);
      if (added) by_bar.order.push_back(key);
      it->second.push_back(&e);
    }
  }
  return by_bar;
}

// Sorts `events` by id and adds them to `bar`, unless an id comes twice (a record delivered
// twice) or is not beyond what the bar already counts: both would need to know what the bar
// counts, so the caller recomputes it instead. False (and `bar` unchanged) then.
bool AddInIdOrder(Bar& bar, std::vector<const StoredPrice*>& events) {
  std::sort(events.begin(), events.end(), [](const StoredPrice* a, const StoredPrice* b) {
    return a->price_point_id < b->price_point_id;
  });
  int64_t last = bar.max_id;
  for (const StoredPrice* e : events) {
    if (e->price_point_id <= last) return false;
    last = e->price_point_id;
  }
  for (const StoredPrice* e : events) Add(bar, *e, e->quote.timestamp);
  return true;
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

BarPlan PlanBars(const std::vector<StoredPrice>& events, const std::vector<int>& intervals,
                 const absl::flat_hash_map<BarKey, Bar>& current) {
  ByBar by_bar = GroupByBar(events, intervals);
  BarPlan plan;
  for (const BarKey& key : by_bar.order) {
    std::vector<const StoredPrice*>& bar_events = by_bar.events[key];
    Bar bar;
    bar.key = key;
    auto stored = current.find(key);
    if (stored != current.end()) bar = stored->second;
    if (!AddInIdOrder(bar, bar_events)) {
      int64_t through = bar.max_id;
      for (const StoredPrice* e : bar_events) through = std::max(through, e->price_point_id);
      plan.recompute.push_back(key);
      plan.recompute_through.push_back(through);
      continue;
    }
    plan.updated.push_back(std::move(bar));
  }
  return plan;
}

BarDeltas PlanDeltas(const std::vector<StoredPrice>& events, const std::vector<int>& intervals) {
  ByBar by_bar = GroupByBar(events, intervals);
  BarDeltas deltas;
  for (const BarKey& key : by_bar.order) {
    std::vector<const StoredPrice*>& bar_events = by_bar.events[key];
    Bar bar;
    bar.key = key;
    // AddInIdOrder sorts the events by id: the first has the smallest.
    if (AddInIdOrder(bar, bar_events) && bar.open_id == bar_events.front()->price_point_id) {
      deltas.mergeable.push_back(std::move(bar));
    } else {
      deltas.others.push_back(key);
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
