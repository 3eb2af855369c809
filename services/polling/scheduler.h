// PollingScheduler: runs the polling jobs this replica manages to lease. A claim loop leases
// jobs that are due within a short look-ahead; a runner waits for the planned tick, fetches every
// symbol the tick does not hold yet through the same PriceRecorder as GetLatestPrice, records the
// run and releases the lease. Each price of a tick is stored with the tick's record of its
// symbol, fenced by the lease in the database (see PollTick): one price per (job, tick, symbol),
// even when a replica that froze past its lease wakes up and writes. A renewal loop keeps the leases of claimed jobs while they run; a run whose lease is
// lost (the job was stopped, or the lease ran out) stops fetching and records nothing. Any
// number of replicas can share the jobs table.
#ifndef MARKETDATA_SERVICES_POLLING_SCHEDULER_H_
#define MARKETDATA_SERVICES_POLLING_SCHEDULER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "services/common/metrics/histogram.h"
#include "services/polling/lease_keeper.h"
#include "services/pricing/price_recorder.h"
#include "services/providers/registry.h"
#include "services/storage/polling_job_store.h"

namespace marketdata {

struct SchedulerOptions {
  // Identifies this replica's leases; must be unique among live replicas and stable across a
  // restart of the same replica (e.g. host:port), so a restart takes its jobs back at once.
  std::string instance_id;
  int runners = 16;
  absl::Duration claim_interval = absl::Milliseconds(50);
  absl::Duration lookahead = absl::Milliseconds(250);
  // How long a claim or renewal holds a job. Runs renew their lease every third of it, so this
  // does not bound how long a run may take; it bounds how long the jobs of a replica that died
  // (or lost the database) stay idle before another replica takes them.
  absl::Duration lease = absl::Seconds(30);
};

// Scheduling delay of recent runs (actual start minus planned tick).
struct LagSummary {
  int runs = 0;
  absl::Duration p50;
  absl::Duration p99;
  absl::Duration max;
};

// How old a quote a job's tick accepts: jobs that poll one symbol on one provider at about the
// same tick share its call (and its stored price) instead of calling once each. Half the interval
// at most, one second at most.
absl::Duration TickShareWindow(const JobConfig& config);

// Bounds of the tick-lag histogram, in seconds: a healthy replica starts runs within a few
// milliseconds of their tick; seconds mean it is overloaded or was down.
std::vector<double> TickLagBuckets();

class PollingScheduler {
 public:
  PollingScheduler(PollingJobStore& store, PriceRecorder& recorder,
                   const ProviderRegistry& providers, SchedulerOptions options,
                   std::function<absl::Time()> clock = absl::Now);
  ~PollingScheduler();

  void Start();
  // Stops claiming, lets runs in progress finish (still renewing their leases), releases what is
  // left.
  void Stop();

  // One claim pass (exposed for tests): claims what free runners can take and queues it.
  int ClaimOnce();
  LagSummary lag() const;
  // Every run's lag in seconds since the start, for mds_polling_tick_lag_seconds.
  const Histogram& lag_histogram() const { return lag_seconds_; }
  // Prices of a tick the database refused to store, or to record, because the tick already had
  // one for the symbol or this replica no longer held its lease (a run that froze past it).
  int64_t refused_writes() const { return refused_writes_.load(std::memory_order_relaxed); }

 private:
  // A job claimed by ClaimOnce, waiting for a runner.
  struct Claimed {
    PollingJob job;
    LeaseKeeper::Token lease = 0;
  };

  void ClaimLoop();
  void RenewLoop();
  void RunnerLoop();
  void Run(const Claimed& claimed);

  PollingJobStore& store_;
  PriceRecorder& recorder_;
  const ProviderRegistry& providers_;
  const SchedulerOptions options_;
  std::function<absl::Time()> clock_;
  LeaseKeeper leases_;

  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> refused_writes_{0};
  absl::Notification stop_renewing_;
  std::thread claimer_;
  std::thread renewer_;
  std::vector<std::thread> runners_;

  mutable absl::Mutex mu_;
  std::deque<Claimed> queue_ ABSL_GUARDED_BY(mu_);
  int busy_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<absl::Duration> recent_lag_ ABSL_GUARDED_BY(mu_);
  Histogram lag_seconds_{TickLagBuckets()};
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_POLLING_SCHEDULER_H_
