// LeaseKeeper: keeps the leases of the jobs one replica has claimed for as long as their runs
// last. A lease is renewed every third of its length, so a run may take any time while its
// replica is alive, and a replica that dies gives its jobs up within one lease. A run asks
// Held() before each step and before recording: once the lease is lost (the job was stopped or
// failed, or the lease ran out and another replica may have taken the tick), it must stop.
#ifndef MARKETDATA_SERVICES_POLLING_LEASE_KEEPER_H_
#define MARKETDATA_SERVICES_POLLING_LEASE_KEEPER_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/storage/polling_job_store.h"

namespace marketdata {

class LeaseKeeper {
 public:
  // Identifies one claim of a job, so that a job claimed again by this replica (after its lease
  // ran out) is told apart from the run still holding the old claim.
  using Token = int64_t;

  // `lease` as passed to ClaimDue; `clock` only measures durations.
  LeaseKeeper(PollingJobStore& store, std::string owner, absl::Duration lease,
              std::function<absl::Time()> clock = absl::Now);

  // How long after a successful renewal the next one is due.
  absl::Duration renew_every() const { return lease_ / 3; }

  // Starts keeping the lease on `job_id`; `claimed_at` is the clock read before the claim was
  // sent, so the lease is never believed to last longer than the store grants it.
  Token Track(const std::string& job_id, absl::Time claimed_at);
  // Stops keeping it (the run ended, successfully or not).
  void Forget(Token token);

  // Renews every kept lease whose last renewal is renew_every() old, and retries the ones whose
  // renewal failed. Returns how many the store said were lost in this pass.
  int RenewDue();
  // Renews one lease now, whatever its age; returns Held(token) afterwards.
  bool RenewNow(Token token);

  // True while the run may go on: no renewal found the lease lost, and the last claim or
  // successful renewal is less than two thirds of a lease old. Failed renewals prove nothing,
  // but once the lease may have run out in the store another replica may hold the job; the last
  // third is left for the step a run takes after asking.
  bool Held(Token token) const;
  int kept() const;

 private:
  struct Kept {
    std::string job_id;
    absl::Time renewed_at;  // clock read before the last successful claim or renewal
    bool lost = false;
  };
  // Records the store's answer to a renewal sent after `started`.
  void Record(Token token, const absl::StatusOr<bool>& renewed, absl::Time started);
  // True once the lease may be near its end in the store. A lease given up is never renewed
  // again: the store cannot tell this claim from a newer claim of the same job by this replica.
  bool GivenUp(const Kept& kept, absl::Time now) const;

  PollingJobStore& store_;
  const std::string owner_;
  const absl::Duration lease_;
  const std::function<absl::Time()> clock_;

  mutable absl::Mutex mu_;
  Token next_token_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<Token, Kept> kept_ ABSL_GUARDED_BY(mu_);
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_POLLING_LEASE_KEEPER_H_
