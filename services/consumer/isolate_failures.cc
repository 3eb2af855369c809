#include "services/consumer/isolate_failures.h"

#include "absl/strings/str_cat.h"

namespace marketdata {
namespace {

absl::Status Isolate(const std::vector<StoredPrice>& events, size_t begin, size_t end,
                     const EventsProcessor& process, std::vector<FailedEvent>* failed) {
  if (begin == end) return absl::OkStatus();
  absl::Status status =
      process(std::vector<StoredPrice>(events.begin() + begin, events.begin() + end));
  if (status.ok()) return status;
  if (IsTransientFailure(status) || absl::IsCancelled(status)) return status;
  if (end - begin == 1) {
    failed->push_back(FailedEvent{begin, std::move(status)});
    return absl::OkStatus();
  }
  // Halves, not single events: a few bad events among thousands cost O(bad * log n) attempts.
  const size_t middle = begin + (end - begin) / 2;
  if (absl::Status s = Isolate(events, begin, middle, process, failed); !s.ok()) return s;
  return Isolate(events, middle, end, process, failed);
}

}  // namespace

bool IsTransientFailure(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
         absl::IsAborted(status);
}

absl::StatusOr<std::vector<FailedEvent>> IsolateFailingEvents(
    const std::vector<StoredPrice>& events, const EventsProcessor& process) {
  std::vector<FailedEvent> failed;
  if (absl::Status s = Isolate(events, 0, events.size(), process, &failed); !s.ok()) return s;
  if (events.size() > 1 && failed.size() == events.size()) {
    // Nothing gets through: the store refuses everything (a dropped table, a revoked grant), not
    // these events. Parking them all would empty the partition onto the dead-letter topic; the
    // caller keeps retrying instead, and the events wait in Kafka until it is fixed.
    return absl::FailedPreconditionError(absl::StrCat(
        "every event of the batch fails on its own (", failed.front().status.ToString(), ")"));
  }
  return failed;
}

}  // namespace marketdata
