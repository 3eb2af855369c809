// PriceEventPublisher: hands stored prices to the event stream without waiting for it.
#ifndef MARKETDATA_SERVICES_EVENTS_PUBLISHER_H_
#define MARKETDATA_SERVICES_EVENTS_PUBLISHER_H_

#include <cstdint>
#include <vector>

#include "services/domain/quote.h"

namespace marketdata {

class PriceEventPublisher {
 public:
  virtual ~PriceEventPublisher() = default;
  // Queues the event; never blocks on the broker. An event that is never acknowledged stays in
  // the outbox and is published again by the relay.
  virtual void Publish(const StoredPrice& price) = 0;
  // Price point ids whose events the broker acknowledged since the last call.
  virtual std::vector<int64_t> TakeAcknowledged() = 0;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_EVENTS_PUBLISHER_H_
