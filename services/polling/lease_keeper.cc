#include "services/polling/lease_keeper.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "spdlog/spdlog.h"

namespace marketdata {

LeaseKeeper::LeaseKeeper(PollingJobStore& store, std::string owner, absl::Duration lease,
                         std::function<absl::Time()> clock)
    : store_(store), owner_(std::move(owner)), lease_(lease), clock_(std::move(clock)) {}

LeaseKeeper::Token LeaseKeeper::Track(const std::string& job_id, absl::Time claimed_at) {
  absl::MutexLock lock(&mu_);
  const Token token = next_token_++;
  kept_[token] = Kept{job_id, claimed_at, false};
  return token;
}

void LeaseKeeper::Forget(Token token) {
  absl::MutexLock lock(&mu_);
  kept_.erase(token);
}

int LeaseKeeper::RenewDue() {
  // Read before any renewal is sent: every lease renewed in this pass lasts at least until
  // `now + lease` in the store.
  const absl::Time now = clock_();
  std::vector<std::pair<Token, std::string>> due;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [token, kept] : kept_) {
      if (kept.lost) continue;
      if (GivenUp(kept, now)) {
        kept.lost = true;
        continue;
      }
      if (now - kept.renewed_at >= renew_every()) due.emplace_back(token, kept.job_id);
    }
  }
  int lost = 0;
  int failed = 0;
  absl::Status first_error;
  // Outside the lock: runs ask Held() while the store answers.
  for (const auto& [token, job_id] : due) {
    absl::StatusOr<bool> renewed = store_.RenewLease(job_id, owner_, lease_);
    if (!renewed.ok()) {
      if (failed++ == 0) first_error = renewed.status();
    } else if (!*renewed) {
      ++lost;
    }
    Record(token, renewed, now);
  }
  if (failed > 0) {
    // One line per pass, not per job: when the database is away every renewal fails alike.
    spdlog::warn("polling: renewing {} of {} leases failed, retrying: {}", failed, due.size(),
                 first_error.ToString());
  }
  return lost;
}

bool LeaseKeeper::RenewNow(Token token) {
  std::string job_id;
  {
    absl::MutexLock lock(&mu_);
    auto it = kept_.find(token);
    if (it == kept_.end() || it->second.lost) return false;
    if (GivenUp(it->second, clock_())) {
      it->second.lost = true;
      return false;
    }
    job_id = it->second.job_id;
  }
  const absl::Time started = clock_();
  absl::StatusOr<bool> renewed = store_.RenewLease(job_id, owner_, lease_);
  if (!renewed.ok()) {
    spdlog::warn("polling: renewing the lease on {} failed: {}", job_id,
                 renewed.status().ToString());
  }
  Record(token, renewed, started);
  return Held(token);
}

void LeaseKeeper::Record(Token token, const absl::StatusOr<bool>& renewed, absl::Time started) {
  if (!renewed.ok()) return;
  absl::MutexLock lock(&mu_);
  auto it = kept_.find(token);
  if (it == kept_.end()) return;  // the run ended meanwhile
  if (*renewed) {
    it->second.renewed_at = std::max(it->second.renewed_at, started);
  } else {
    it->second.lost = true;
  }
}

bool LeaseKeeper::GivenUp(const Kept& kept, absl::Time now) const {
  return now - kept.renewed_at >= lease_ - renew_every();
}

bool LeaseKeeper::Held(Token token) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = kept_.find(token);
  if (it == kept_.end() || it->second.lost) return false;
  return !GivenUp(it->second, clock_());
}

int LeaseKeeper::kept() const {
  absl::ReaderMutexLock lock(&mu_);
  return static_cast<int>(kept_.size());
}

}  // namespace marketdata
