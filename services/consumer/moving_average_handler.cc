#include "services/consumer/moving_average_handler.h"

#include <iterator>
#include <utility>

#include "spdlog/spdlog.h"

namespace marketdata {

MovingAverageHandler::MovingAverageHandler(MovingAverageStore& store, std::vector<int> windows,
                                           size_t max_symbols, Listener listener)
    : store_(store),
      processor_(store, std::move(windows), max_symbols),
      listener_(std::move(listener)) {}

absl::Status MovingAverageHandler::Handle(const std::vector<StoredPrice>& events) {
  absl::StatusOr<BatchResult> result = processor_.Process(events);
  absl::Status status = result.ok() ? store_.SaveAverages(result->averages) : result.status();
  if (!status.ok()) {
    processor_.Reset();  // the windows may hold these events' points: rebuild them
  } else {
    processor_.Written(result->averages);
    written_.insert(written_.end(), std::make_move_iterator(result->averages.begin()),
                    std::make_move_iterator(result->averages.end()));
    repaired_ += result->repaired_events;
  }
  counters_.symbol_windows.store(static_cast<int64_t>(processor_.symbols()));
  return status;
}

void MovingAverageHandler::Committed() {
  counters_.averages.fetch_add(static_cast<int64_t>(written_.size()));
  counters_.repaired.fetch_add(repaired_);
  if (repaired_ > 0) {
    spdlog::debug("consumer: {} events averaged from their stored neighbours", repaired_);
  }
  if (listener_) listener_(written_);
  written_.clear();
  repaired_ = 0;
}

void MovingAverageHandler::Reset() {
  processor_.Reset();
  counters_.symbol_windows.store(0);
}

}  // namespace marketdata
