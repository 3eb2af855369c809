// Finding the events that make a batch fail. A batch the store refuses for a reason that retrying
// does not cure would otherwise be retried forever and stall its partition; splitting it finds the
// events that fail on their own, so they can be parked and the rest written.
#ifndef MARKETDATA_SERVICES_CONSUMER_ISOLATE_FAILURES_H_
#define MARKETDATA_SERVICES_CONSUMER_ISOLATE_FAILURES_H_

#include <cstddef>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/domain/quote.h"

namespace marketdata {

// True for failures that say nothing about the events and heal by themselves (the database or
// the broker is away, slow, or aborted the transaction): UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED.
bool IsTransientFailure(const absl::Status& status);

struct FailedEvent {
  size_t index = 0;  // into the events given to IsolateFailingEvents
  absl::Status status;
};

// Averages and writes some events, all or nothing as far as the caller is concerned.
using EventsProcessor = std::function<absl::Status(const std::vector<StoredPrice>&)>;

// Processes `events` with `process`, halving every part that fails, down to single events; the
// events that fail alone are returned, in order, with their failures, and every other event has
// been processed successfully exactly once (in the order given, part by part). A transient or
// CANCELLED failure of any part is returned as is: it says nothing about the events, so the
// caller retries the whole search later; the parts already processed are processed again then,
// which `process` must tolerate (the store's writes are upserts). When every event of a batch of
// two or more fails alone, the failure is not theirs: FAILED_PRECONDITION, nothing blamed.
absl::StatusOr<std::vector<FailedEvent>> IsolateFailingEvents(
    const std::vector<StoredPrice>& events, const EventsProcessor& process);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_CONSUMER_ISOLATE_FAILURES_H_
