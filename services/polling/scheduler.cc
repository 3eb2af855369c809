#include "services/polling/scheduler.h"

#include <algorithm>

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
      clock_(std::move(clock)) {}

PollingScheduler::~PollingScheduler() { Stop(); }

void PollingScheduler::Start() {
  if (absl::Status s = store_.ReleaseLeases(options_.instance_id); !s.ok()) {
    spdlog::warn("polling: could not release old leases of {}: {}", options_.instance_id,
                 s.ToString());
  }
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

int PollingScheduler::ClaimOnce() {
  int free_runners;
  {
    absl::MutexLock lock(&mu_);
    free_runners = options_.runners - busy_ - static_cast<int>(queue_.size());
  }
  if (free_runners <= 0) return 0;
  absl::StatusOr<std::vector<PollingJob>> jobs =
      store_.ClaimDue(options_.instance_id, free_runners, options_.lookahead, options_.lease);
  if (!jobs.ok()) {
    spdlog::warn("polling: claim failed: {}", jobs.status().ToString());
    return 0;
  }
  absl::MutexLock lock(&mu_);
  for (PollingJob& job : *jobs) queue_.push_back(std::move(job));
  return static_cast<int>(jobs->size());
}

void PollingScheduler::RunnerLoop() {
  while (true) {
    PollingJob job;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !queue_.empty() || stopping_.load();
      };
      // Wakes up periodically to notice stopping_ (set without the lock).
      while (!mu_.AwaitWithTimeout(absl::Condition(&ready), absl::Milliseconds(100))) {
      }
      if (queue_.empty()) return;  // stopping
      job = std::move(queue_.front());
      queue_.pop_front();
      ++busy_;
    }
    Run(job);
    absl::MutexLock lock(&mu_);
    --busy_;
  }
}

void PollingScheduler::Run(const PollingJob& job) {
  // A job whose provider this process does not have can never run (it was created by a
  // replica configured differently, or the provider was removed).
  if (absl::Status s = providers_.Find(job.config.provider).status(); !s.ok()) {
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
  JobRunResult result;
  result.started_at = clock_();
  const absl::Duration lag = result.started_at - job.next_run_at;
  {
    absl::MutexLock lock(&mu_);
    recent_lag_.push_back(lag);
    if (recent_lag_.size() > kLagWindow) recent_lag_.pop_front();
  }
  for (const std::string& symbol : job.config.symbols) {
    absl::StatusOr<StoredPrice> stored = recorder_.Record(symbol, job.config.provider);
    if (stored.ok()) continue;
    ++result.errors;
    result.last_error = absl::StrCat(symbol, ": ", stored.status().message());
  }
  result.next_run_at = NextRunAfter(job.next_run_at, absl::Seconds(job.config.interval_seconds),
                                    clock_());
  if (absl::Status s = store_.CompleteRun(job.job_id, options_.instance_id, result); !s.ok()) {
    spdlog::warn("polling: recording run of {} failed: {}", job.job_id, s.ToString());
  }
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
