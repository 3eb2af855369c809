// OutboxRelay: the background loop that makes publishing reliable. It forgets outbox entries the
// broker acknowledged and republishes entries that stayed unacknowledged past their lease
// (broker down, process killed after the commit). Delivery is at least once; consumers are
// idempotent by price_point_id.
#ifndef MARKETDATA_SERVICES_EVENTS_OUTBOX_RELAY_H_
#define MARKETDATA_SERVICES_EVENTS_OUTBOX_RELAY_H_

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "services/events/publisher.h"
#include "services/storage/price_store.h"

namespace marketdata {

struct OutboxRelayOptions {
  absl::Duration interval = absl::Milliseconds(200);
  int batch_size = 1000;
  // How long a claimed entry is hidden from other relays before it is tried again.
  absl::Duration lease = absl::Seconds(30);
};

class OutboxRelay {
 public:
  OutboxRelay(PriceOutbox& outbox, PriceEventPublisher& publisher, OutboxRelayOptions options);
  ~OutboxRelay();

  void Start();
  // Stops the loop after one last acknowledgement pass.
  void Stop();

  // One pass: acknowledge, then claim and republish. Returns how many entries were republished.
  int RunOnce();

 private:
  PriceOutbox& outbox_;
  PriceEventPublisher& publisher_;
  OutboxRelayOptions options_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_EVENTS_OUTBOX_RELAY_H_
