#include "services/consumer/bar_handler.h"

#include <iterator>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "services/bars/bars.h"

namespace marketdata {

BarHandler::BarHandler(BarStore& store, std::vector<int> intervals, Listener listener)
    : store_(store), intervals_(std::move(intervals)), listener_(std::move(listener)) {}

absl::Status BarHandler::Handle(const std::vector<StoredPrice>& events) {
  if (intervals_.empty() || events.empty()) return absl::OkStatus();
  // First the deltas the store can merge without reading (prices in time order, the usual case).
  BarDeltas deltas = PlanDeltas(events, intervals_);
  absl::StatusOr<std::vector<Bar>> merged = store_.Merge(deltas.mergeable);
  if (!merged.ok()) return merged.status();
  absl::flat_hash_set<BarKey> rest(deltas.others.begin(), deltas.others.end());
  if (merged->size() < deltas.mergeable.size()) {
    absl::flat_hash_set<BarKey> done;
    for (const Bar& bar : *merged) done.insert(bar.key);
    for (const Bar& delta : deltas.mergeable) {
      if (!done.contains(delta.key)) rest.insert(delta.key);
    }
  }
  merged_ += static_cast<int64_t>(merged->size());
  written_.insert(written_.end(), std::make_move_iterator(merged->begin()),
                  std::make_move_iterator(merged->end()));
  if (rest.empty()) return absl::OkStatus();
  // The others (late, out of order within the batch, repeated) against the stored bars, read and
  // held: added to them where possible, else recomputed.
  int64_t recomputed = 0;
  absl::StatusOr<std::vector<Bar>> written = store_.Update(
      std::vector<BarKey>(rest.begin(), rest.end()),
      [&](const absl::flat_hash_map<BarKey, Bar>& current) {
        BarPlan all = PlanBars(events, intervals_, current);
        BarPlan plan;
        for (Bar& bar : all.updated) {
          if (rest.contains(bar.key)) plan.updated.push_back(std::move(bar));
        }
        for (size_t i = 0; i < all.recompute.size(); ++i) {
          if (!rest.contains(all.recompute[i])) continue;
          plan.recompute.push_back(std::move(all.recompute[i]));
          plan.recompute_through.push_back(all.recompute_through[i]);
        }
        recomputed = static_cast<int64_t>(plan.recompute.size());
        return plan;
      });
  // The merged bars are committed whatever happens next; nothing else is kept between batches.
  if (!written.ok()) return written.status();
  recomputed_ += recomputed;
  written_.insert(written_.end(), std::make_move_iterator(written->begin()),
                  std::make_move_iterator(written->end()));
  return absl::OkStatus();
}

void BarHandler::Committed() {
  counters_.bars_written.fetch_add(static_cast<int64_t>(written_.size()));
  counters_.merged.fetch_add(merged_);
  counters_.recomputed.fetch_add(recomputed_);
  if (listener_) listener_(written_);
  written_.clear();
  merged_ = 0;
  recomputed_ = 0;
}

}  // namespace marketdata
