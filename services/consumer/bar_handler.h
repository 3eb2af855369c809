// BarHandler: OHLCV bars as one EventHandler. A batch's bars are first merged into the stored
// ones as deltas (PlanDeltas, BarStore::Merge: one statement, nothing read); the bars that cannot
// be merged go through PlanBars against the stored bars, which BarStore reads, recomputes where
// needed and writes. Each committed batch's bars go to the live streams.
#ifndef MARKETDATA_SERVICES_CONSUMER_BAR_HANDLER_H_
#define MARKETDATA_SERVICES_CONSUMER_BAR_HANDLER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "services/consumer/event_handler.h"
#include "services/domain/bar.h"
#include "services/storage/bar_store.h"

namespace marketdata {

struct BarCounters {
  std::atomic<int64_t> bars_written{0};
  std::atomic<int64_t> merged{0};      // of those, merged without being read
  std::atomic<int64_t> recomputed{0};  // bars rebuilt (late or repeated events)
};

class BarHandler final : public EventHandler {
 public:
  using Listener = std::function<void(const std::vector<Bar>&)>;

  // `intervals`: bar widths in seconds.
  BarHandler(BarStore& store, std::vector<int> intervals, Listener listener);

  std::string name() const override { return "bars"; }
  absl::Status Handle(const std::vector<StoredPrice>& events) override;
  void Committed() override;

  const BarCounters& counters() const { return counters_; }

 private:
  BarStore& store_;
  const std::vector<int> intervals_;
  Listener listener_;
  std::vector<Bar> written_;  // since the last commit
  int64_t merged_ = 0;
  int64_t recomputed_ = 0;
  BarCounters counters_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_CONSUMER_BAR_HANDLER_H_
