#include "services/polling/scheduler.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "services/polling/job_rules.h"
#include "spdlog/spdlog.h"

namespace marketdata {
namespace {
constexpr size_t kLagWindow = 10000;
}  // namespace

PollingScheduler::PollingScheduler(PollingJobStore& store, PriceRecorder& recorder,
                                   const ProviderRegistry& providers, SchedulerOptions options,
                                   std::function<absl::Time()> clock)
    : store_(store),
      recorder_(recorder),
      providers_(providers),
      options_(std::move(options)),
      clock_(std::move(clock)),
      leases_(store, options_.instance_id, options_.lease, clock_) {}

PollingScheduler::~PollingScheduler() { Stop(); }

void PollingScheduler::Start() {
  if (absl::Status s = store_.ReleaseLeases(options_.instance_id); !s.ok()) {
    spdlog::warn("polling: could not release old leases of {}: {}", options_.instance_id,
                 s.ToString());
  }
  renewer_ = std::thread([this] { RenewLoop(); });
  for (int i = 0; i < options_.runners; ++i) runners_.emplace_back([this] { RunnerLoop(); });
  claimer_ = std::thread([this] { ClaimLoop(); });
}

void PollingScheduler::Stop() {
  if (stopping_.exchange(true)) return;
  if (claimer_.joinable()) claimer_.join();
  {
    absl::MutexLock lock(&mu_);  // wake the runners
  }
  for (std::thread& t : runners_) t.join();
  // Only now: the runs that were finishing needed their leases kept.
  stop_renewing_.Notify();
  if (renewer_.joinable()) renewer_.join();
  // Jobs claimed but never started go back to the pool now rather than when the lease expires.
  if (absl::Status s = store_.ReleaseLeases(options_.instance_id); !s.ok()) {
    spdlog::warn("polling: releasing leases failed: {}", s.ToString());
  }
}

void PollingScheduler::ClaimLoop() {
  while (!stopping_.load()) {
    ClaimOnce();
    absl::SleepFor(options_.claim_interval);
  }
}

void PollingScheduler::RenewLoop() {
  // Several passes per renewal period, so a failed renewal is retried well before the lease
  // runs out.
  const absl::Duration period = std::max(leases_.renew_every() / 4, absl::Milliseconds(10));
  do {
    leases_.RenewDue();
  } while (!stop_renewing_.WaitForNotificationWithTimeout(period));
}

int PollingScheduler::ClaimOnce() {
  int free_runners;
  {
    absl::MutexLock lock(&mu_);
    free_runners = options_.runners - busy_ - static_cast<int>(queue_.size());
  }
  if (free_runners <= 0) return 0;
  // Read before the claim is sent, so the lease is never believed to outlast the store's.
  const absl::Time claimed_at = clock_();
  absl::StatusOr<std::vector<PollingJob>> jobs =
      store_.ClaimDue(options_.instance_id, free_runners, options_.lookahead, options_.lease);
  if (!jobs.ok()) {
    spdlog::warn("polling: claim failed: {}", jobs.status().ToString());
    return 0;
  }
  std::vector<Claimed> claimed;
  for (PollingJob& job : *jobs) {
    const LeaseKeeper::Token lease = leases_.Track(job.job_id, claimed_at);
    claimed.push_back(Claimed{std::move(job), lease});
  }
  absl::MutexLock lock(&mu_);
  for (Claimed& c : claimed) queue_.push_back(std::move(c));
  return static_cast<int>(claimed.size());
}

void PollingScheduler::RunnerLoop() {
  while (true) {
    Claimed claimed;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !queue_.empty() || stopping_.load();
      };
      // Wakes up periodically to notice stopping_ (set without the lock).
      while (!mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(100))) {
      }
      if (queue_.empty()) return;  // stopping
      claimed = std::move(queue_.front());
      queue_.pop_front();
      ++busy_;
    }
    Run(claimed);
    leases_.Forget(claimed.lease);
    absl::MutexLock lock(&mu_);
    --busy_;
  }
}

void PollingScheduler::Run(const Claimed& claimed) {
  const PollingJob& job = claimed.job;
  // A job whose provider this process does not have can never run (it was created by a
  // replica configured differently, or the provider was removed).
  if (absl::Status s = providers_.FindChain(job.config.provider).status(); !s.ok()) {
    spdlog::warn("polling: job {} can never run: {}", job.job_id, std::string(s.message()));
    if (absl::Status f = store_.MarkFailed(job.job_id, options_.instance_id,
                                           std::string(s.message()));
        !f.ok()) {
      spdlog::warn("polling: marking {} failed: {}", job.job_id, f.ToString());
    }
    return;
  }
  // Wait for the planned tick (claims look a little ahead so runs start on time).
  while (clock_() < job.next_run_at) {
    if (stopping_.load()) return;  // the lease is released by Stop()
    absl::SleepFor(std::min(job.next_run_at - clock_(), absl::Milliseconds(50)));
  }
  // Claims look ahead, so the job may have been stopped since it was claimed: confirming the
  // lease before the first fetch keeps a stopped job from running once more. The renewal also
  // gives the run a full lease from its start.
  if (!leases_.RenewNow(claimed.lease)) {
    spdlog::info("polling: job {} was stopped, or its lease lost, before its run; skipping it",
                 job.job_id);
    return;
  }
  JobRunResult result;
  result.started_at = clock_();
  const absl::Duration lag = result.started_at - job.next_run_at;
  {
    absl::MutexLock lock(&mu_);
    recent_lag_.push_back(lag);
    if (recent_lag_.size() > kLagWindow) recent_lag_.pop_front();
  }
  lag_seconds_.Observe(absl::ToDoubleSeconds(lag));
  // A tick holds one price per symbol, whoever fetched it: a run that completes a tick another
  // run began (a replica that died, or froze past its lease) fetches only the missing symbols.
  const PollTick tick{job.job_id, job.next_run_at, options_.instance_id};
  absl::flat_hash_set<std::string> recorded;
  if (absl::StatusOr<std::vector<std::string>> done = store_.TickSymbols(job.job_id, tick.tick_at);
      done.ok()) {
    recorded.insert(done->begin(), done->end());
  } else {
    // The writes are fenced all the same: a symbol already recorded is refused, not stored twice.
    spdlog::warn("polling: reading the records of {}'s tick failed: {}", job.job_id,
                 done.status().ToString());
  }
  if (!recorded.empty()) {
    spdlog::info("polling: job {} completes a tick begun earlier: {} of {} symbols already have "
                 "their price",
                 job.job_id, recorded.size(), job.config.symbols.size());
  }
  size_t fetched = 0;
  for (const std::string& symbol : job.config.symbols) {
    if (recorded.contains(symbol)) continue;
    // Checked before every fetch: a job stopped during its run fetches no more, and a run that
    // lost its lease leaves the tick to the replica that holds it now.
    if (!leases_.Held(claimed.lease)) break;
    ++fetched;
    absl::StatusOr<StoredPrice> stored =
        recorder_.Record(symbol, job.config.provider, job.config.owner_key_id,
                         TickShareWindow(job.config), tick);
    if (stored.ok() && !(stored->tick_recorded && stored->quote.tick == tick)) {
      // A price another request stored (a call it shared, or a recent quote): the tick's record
      // names it, under the same fence.
      absl::StatusOr<bool> ok = store_.RecordTick(tick, stored->quote.symbol,
                                                  stored->price_point_id);
      if (!ok.ok()) {
        stored = ok.status();
      } else if (!*ok) {
        stored = TickRefusedError(tick, stored->quote.symbol);
      }
    }
    if (stored.ok()) continue;
    if (RefusedTick(stored.status()).has_value()) {
      // Another run recorded the symbol first, or this one's lease is gone in the store: not an
      // error of the job's, and nothing was stored.
      refused_writes_.fetch_add(1, std::memory_order_relaxed);
      spdlog::info("polling: job {}: {}", job.job_id, std::string(stored.status().message()));
      // Only the store knows which: a run whose lease ran out (its renewals starved on a busy
      // machine) stops here and records nothing, and whoever claims the job next completes the
      // tick with the symbols it misses.
      if (!leases_.RenewNow(claimed.lease)) break;
      continue;
    }
    ++result.errors;
    result.last_error = absl::StrCat(symbol, ": ", stored.status().message());
    spdlog::debug("polling: job {}: {}", job.job_id, result.last_error);
  }
  if (!leases_.Held(claimed.lease)) {
    // Recording now could overwrite the run of the replica that took the job over.
    spdlog::info("polling: job {} was stopped, or its lease lost, during its run ({} of {} "
                 "symbols fetched); not recording it",
                 job.job_id, fetched, job.config.symbols.size());
    return;
  }
  result.next_run_at = NextRunAfter(job.next_run_at, absl::Seconds(job.config.interval_seconds),
                                    clock_());
  if (absl::Status s = store_.CompleteRun(job.job_id, options_.instance_id, result); !s.ok()) {
    spdlog::warn("polling: recording run of {} failed: {}", job.job_id, s.ToString());
  }
}

absl::Duration TickShareWindow(const JobConfig& config) {
  return std::min(absl::Seconds(config.interval_seconds) / 2, absl::Seconds(1));
}

std::vector<double> TickLagBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

LagSummary PollingScheduler::lag() const {
  std::vector<absl::Duration> lags;
  {
    absl::MutexLock lock(&mu_);
    lags.assign(recent_lag_.begin(), recent_lag_.end());
  }
  LagSummary summary;
  summary.runs = static_cast<int>(lags.size());
  if (lags.empty()) return summary;
  std::sort(lags.begin(), lags.end());
  summary.p50 = lags[lags.size() / 2];
  summary.p99 = lags[std::min(lags.size() - 1, lags.size() * 99 / 100)];
  summary.max = lags.back();
  return summary;
}

}  // namespace marketdata
