#include "services/consumer/bar_handler.h"

#include <iterator>
#include <utility>

#include "services/bars/bars.h"

namespace marketdata {

BarHandler::BarHandler(BarStore& store, std::vector<int> intervals, Listener listener)
    : store_(store), intervals_(std::move(intervals)), listener_(std::move(listener)) {}

absl::Status BarHandler::Handle(const std::vector<StoredPrice>& events) {
  if (intervals_.empty() || events.empty()) return absl::OkStatus();
  int64_t recomputed = 0;
  absl::StatusOr<std::vector<Bar>> written = store_.Update(
      TouchedBars(events, intervals_), [&](const absl::flat_hash_map<BarKey, Bar>& current) {
        BarPlan plan = PlanBars(events, intervals_, current);
        recomputed = static_cast<int64_t>(plan.recompute.size());
        return plan;
      });
  if (!written.ok()) return written.status();  // nothing is kept between batches
  recomputed_ += recomputed;
  written_.insert(written_.end(), std::make_move_iterator(written->begin()),
                  std::make_move_iterator(written->end()));
  return absl::OkStatus();
}

void BarHandler::Committed() {
  counters_.bars_written.fetch_add(static_cast<int64_t>(written_.size()));
  counters_.recomputed.fetch_add(recomputed_);
  if (listener_) listener_(written_);
  written_.clear();
  recomputed_ = 0;
}

}  // namespace marketdata
