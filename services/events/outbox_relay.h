// OutboxRelay: the background loop that makes publishing reliable. It forgets outbox entries the
// broker acknowledged and republishes entries that stayed unacknowledged past their lease
// (broker down, process killed after the commit). Delivery is at least once; consumers are
// idempotent by price_point_id. An acknowledgement the database could not record (it was away)
// is kept and recorded once it is back, so a delivered price is not published again.
//
// The publisher never reports a failure directly (a message into an unreachable broker only
// fails once librdkafka gives up on it), so the relay judges the broker by acknowledgements:
// after republishing a batch it waits for the broker to acknowledge something before claiming
// the next, and when nothing is acknowledged within `ack_timeout` it takes the broker as
// unreachable. It then republishes one entry at a time, backing off exponentially, until an
// acknowledgement shows the broker is back. Each change of state is logged once.
#ifndef MARKETDATA_SERVICES_EVENTS_OUTBOX_RELAY_H_
#define MARKETDATA_SERVICES_EVENTS_OUTBOX_RELAY_H_

#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/events/publisher.h"
#include "services/storage/price_store.h"

namespace marketdata {

struct OutboxRelayOptions {
  absl::Duration interval = absl::Milliseconds(200);
  int batch_size = 20000;
  // After a pass that claimed a full batch (a backlog: the broker was away), the next pass comes
  // after this instead of `interval`, so the backlog drains as fast as the broker acknowledges
  // (each claim still waits for an acknowledgement of the one before).
  absl::Duration catch_up_interval = absl::Milliseconds(2);
  // How long a claimed entry is hidden from other relays before it is tried again.
  absl::Duration lease = absl::Seconds(30);
  // A reachable broker acknowledges within milliseconds; a republished batch of which nothing
  // is acknowledged for this long means the broker is unreachable.
  absl::Duration ack_timeout = absl::Seconds(5);
  // While the broker is unreachable, the wait between two attempts doubles from
  // `initial_backoff` up to `max_backoff`. An attempt is one entry, so a short ceiling costs
  // nothing and bounds the time between the broker's return and the drain's start.
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(1);
};

class OutboxRelay {
 public:
  // `clock` decides when attempts are due (tests drive it; RunOnce never sleeps).
  OutboxRelay(PriceOutbox& outbox, PriceEventPublisher& publisher, OutboxRelayOptions options,
              std::function<absl::Time()> clock = absl::Now);
  ~OutboxRelay();

  void Start();
  // Stops the loop after one last acknowledgement pass.
  void Stop();

  // One pass: acknowledge, then, when an attempt is due, claim and republish. Returns how many
  // entries were republished.
  int RunOnce();

  // Whether the relay currently takes the broker as unreachable, and its current backoff.
  bool broker_unreachable() const;
  absl::Duration backoff() const;
  // How long the loop waits before its next pass.
  absl::Duration NextWait() const;

 private:
  PriceOutbox& outbox_;
  PriceEventPublisher& publisher_;
  const OutboxRelayOptions options_;
  const std::function<absl::Time()> clock_;
  absl::Notification stop_;
  std::thread thread_;

  // Passes run one at a time (the loop, or a caller after Stop()).
  mutable absl::Mutex mu_;
  // Entries of the last attempt the broker has not acknowledged yet.
  absl::flat_hash_set<int64_t> awaiting_ ABSL_GUARDED_BY(mu_);
  absl::Time attempted_at_ ABSL_GUARDED_BY(mu_);
  // Whether anything was acknowledged since the last attempt.
  bool heard_since_attempt_ ABSL_GUARDED_BY(mu_) = false;
  bool unreachable_ ABSL_GUARDED_BY(mu_) = false;
  // The last claim was a full batch: more are probably due.
  bool backlog_ ABSL_GUARDED_BY(mu_) = false;
  absl::Duration backoff_ ABSL_GUARDED_BY(mu_);
  absl::Time next_attempt_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // Acknowledged by the broker, not yet deleted from the outbox (the database was away): deleted
  // at the next pass that can, before anything is claimed, so that they are not republished.
  std::vector<int64_t> unrecorded_ ABSL_GUARDED_BY(mu_);
  bool recording_fails_ ABSL_GUARDED_BY(mu_) = false;

  // Deletes the entries of `acknowledged` and of earlier passes that could not be deleted.
  void RecordAcknowledgements(const std::vector<int64_t>& acknowledged)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_EVENTS_OUTBOX_RELAY_H_
