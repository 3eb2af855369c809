// EventHandler: one computation the consumer feeds with PriceEvents (moving averages, bars, ...),
// with its own logic, state and store. The consumer owns everything else: Kafka, decoding, dead
// letters, retries, and the offsets, which it stores only once every handler has written a
// batch. Adding a computation is writing a handler and registering it in main.cc.
#ifndef MARKETDATA_SERVICES_CONSUMER_EVENT_HANDLER_H_
#define MARKETDATA_SERVICES_CONSUMER_EVENT_HANDLER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "services/domain/quote.h"

namespace marketdata {

class EventHandler {
 public:
  virtual ~EventHandler() = default;

  // Names the handler in logs.
  virtual std::string name() const = 0;

  // Computes what `events` (decoded and checked, in partition order) give and writes it to the
  // handler's store. Delivery is at least once: events may come again (a retry, a restart, a
  // rebalance), and writing them twice must change nothing. On failure the handler forgets the
  // state the events may have touched: the same events, or a part of them, come again.
  virtual absl::Status Handle(const std::vector<StoredPrice>& events) = 0;

  // What was handled since the last call is committed (every handler wrote it and the offsets
  // are stored): the handler may publish it (live streams).
  virtual void Committed() {}

  // The partitions were revoked: forget every per-symbol state.
  virtual void Reset() {}
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_CONSUMER_EVENT_HANDLER_H_
