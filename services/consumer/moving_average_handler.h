// MovingAverageHandler: the moving averages as one EventHandler. EventBatchProcessor computes
// them (services/averages), MovingAverageStore writes them, and each committed batch's averages
// go to the live streams.
#ifndef MARKETDATA_SERVICES_CONSUMER_MOVING_AVERAGE_HANDLER_H_
#define MARKETDATA_SERVICES_CONSUMER_MOVING_AVERAGE_HANDLER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "services/averages/event_batch.h"
#include "services/consumer/event_handler.h"
#include "services/storage/moving_average_store.h"

namespace marketdata {

struct MovingAverageCounters {
  std::atomic<int64_t> averages{0};
  std::atomic<int64_t> repaired{0};  // averaged from price_points (out of the window's order)
  // A gauge: the symbol windows kept in memory, copied from the processor by the consuming
  // thread so that metrics scrapes never touch the processor itself.
  std::atomic<int64_t> symbol_windows{0};
};

class MovingAverageHandler final : public EventHandler {
 public:
  // Called with the averages of each committed batch.
  using Listener = std::function<void(const std::vector<AverageRow>&)>;

  MovingAverageHandler(MovingAverageStore& store, std::vector<int> windows, size_t max_symbols,
                       Listener listener);

  std::string name() const override { return "moving averages"; }
  absl::Status Handle(const std::vector<StoredPrice>& events) override;
  void Committed() override;
  void Reset() override;

  const MovingAverageCounters& counters() const { return counters_; }

 private:
  MovingAverageStore& store_;
  EventBatchProcessor processor_;
  Listener listener_;
  std::vector<AverageRow> written_;  // since the last commit
  int64_t repaired_ = 0;             // likewise
  MovingAverageCounters counters_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_CONSUMER_MOVING_AVERAGE_HANDLER_H_
