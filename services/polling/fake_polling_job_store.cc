#include "services/polling/fake_polling_job_store.h"

#include <algorithm>


namespace marketdata {

void FakePollingJobStore::Put(PollingJob job) {
  absl::MutexLock lock(&mu_);
  const std::string id = job.job_id;
  rows_[id] = Row{std::move(job), "", std::nullopt};
}

std::optional<FakePollingJobStore::Row> FakePollingJobStore::row(const std::string& job_id) const {
  absl::MutexLock lock(&mu_);
  auto it = rows_.find(job_id);
  if (it == rows_.end()) return std::nullopt;
  return it->second;
}

void FakePollingJobStore::FailRenewals(absl::Status status) {
  absl::MutexLock lock(&mu_);
  renew_status_ = std::move(status);
}

int FakePollingJobStore::renewals() const {
  absl::MutexLock lock(&mu_);
  return renewals_;
}

int FakePollingJobStore::completions_after_expiry() const {
  absl::MutexLock lock(&mu_);
  return completions_after_expiry_;
}

bool FakePollingJobStore::LeasedTo(const Row& row, const std::string& owner) const {
  return !row.lease_owner.empty() && row.lease_owner == owner;
}

absl::StatusOr<PollingJob> FakePollingJobStore::Create(const std::string& job_id,
                                                       const JobConfig& config) {
  absl::MutexLock lock(&mu_);
  if (rows_.count(job_id) > 0) return absl::AlreadyExistsError(job_id);
  PollingJob job;
  job.job_id = job_id;
  job.config = config;
  job.created_at = clock_();
  job.next_run_at = job.created_at;
  rows_[job_id] = Row{job, "", std::nullopt};
  return job;
}

absl::StatusOr<PollingJob> FakePollingJobStore::Get(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  auto it = rows_.find(job_id);
  if (it == rows_.end()) return absl::NotFoundError(job_id);
  return it->second.job;
}

absl::StatusOr<JobPage> FakePollingJobStore::List(const JobFilter& filter, int limit,
                                                  const std::string&) {
  absl::MutexLock lock(&mu_);
  JobPage page;
  for (const auto& [id, row] : rows_) {
    if (static_cast<int>(page.jobs.size()) == limit) break;
    if (filter.status.has_value() && row.job.status != *filter.status) continue;
    if (filter.owner_key_id.has_value() && row.job.config.owner_key_id != filter.owner_key_id) {
      continue;
    }
    page.jobs.push_back(row.job);
  }
  return page;
}

absl::StatusOr<JobUsage> FakePollingJobStore::ActiveUsage(int64_t owner_key_id) {
  absl::MutexLock lock(&mu_);
  JobUsage usage;
  for (const auto& [id, row] : rows_) {
    const JobStatus status = row.job.status;
    if (row.job.config.owner_key_id != owner_key_id) continue;
    if (status != JobStatus::kAccepted && status != JobStatus::kRunning) continue;
    ++usage.jobs;
    usage.symbols += static_cast<int>(row.job.config.symbols.size());
  }
  return usage;
}

absl::StatusOr<PollingJob> FakePollingJobStore::Stop(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  auto it = rows_.find(job_id);
  if (it == rows_.end()) return absl::NotFoundError(job_id);
  it->second.job.status = JobStatus::kStopped;
  it->second.lease_owner.clear();
  it->second.lease_expires_at.reset();
  return it->second.job;
}

absl::StatusOr<std::vector<PollingJob>> FakePollingJobStore::ClaimDue(const std::string& owner,
                                                                      int limit,
                                                                      absl::Duration lookahead,
                                                                      absl::Duration lease) {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_();
  std::vector<Row*> due;
  for (auto& [id, row] : rows_) {
    const JobStatus status = row.job.status;
    if (status != JobStatus::kAccepted && status != JobStatus::kRunning) continue;
    if (row.job.next_run_at > now + lookahead) continue;
    if (row.lease_expires_at.has_value() && *row.lease_expires_at >= now) continue;
    due.push_back(&row);
  }
  std::sort(due.begin(), due.end(),
            [](const Row* a, const Row* b) { return a->job.next_run_at < b->job.next_run_at; });
  if (static_cast<int>(due.size()) > limit) due.resize(limit);
  std::vector<PollingJob> claimed;
  for (Row* row : due) {
    row->lease_owner = owner;
    row->lease_expires_at = now + lease;
    row->job.status = JobStatus::kRunning;
    claimed.push_back(row->job);
  }
  return claimed;
}

absl::StatusOr<bool> FakePollingJobStore::RenewLease(const std::string& job_id,
                                                     const std::string& owner,
                                                     absl::Duration lease) {
  absl::MutexLock lock(&mu_);
  ++renewals_;
  if (!renew_status_.ok()) return renew_status_;
  auto it = rows_.find(job_id);
  if (it == rows_.end()) return false;
  Row& row = it->second;
  const absl::Time now = clock_();
  if (!LeasedTo(row, owner) || row.job.status != JobStatus::kRunning ||
      !row.lease_expires_at.has_value() || *row.lease_expires_at <= now) {
    return false;
  }
  row.lease_expires_at = now + lease;
  return true;
}

absl::Status FakePollingJobStore::CompleteRun(const std::string& job_id, const std::string& owner,
                                              const JobRunResult& result) {
  absl::MutexLock lock(&mu_);
  auto it = rows_.find(job_id);
  if (it == rows_.end() || !LeasedTo(it->second, owner)) return absl::OkStatus();
  Row& row = it->second;
  if (row.lease_expires_at.has_value() && *row.lease_expires_at <= clock_()) {
    ++completions_after_expiry_;
    return absl::OkStatus();  // as the PostgreSQL store: a lease that ran out records nothing
  }
  row.job.last_run_at = result.started_at;
  row.job.next_run_at = result.next_run_at;
  ++row.job.run_count;
  row.job.error_count += result.errors;
  if (result.errors > 0) row.job.last_error = result.last_error;
  row.lease_owner.clear();
  row.lease_expires_at.reset();
  return absl::OkStatus();
}

absl::Status FakePollingJobStore::MarkFailed(const std::string& job_id, const std::string& owner,
                                             const std::string& reason) {
  absl::MutexLock lock(&mu_);
  auto it = rows_.find(job_id);
  if (it == rows_.end() || !LeasedTo(it->second, owner) ||
      it->second.job.status == JobStatus::kStopped) {
    return absl::OkStatus();
  }
  it->second.job.status = JobStatus::kFailed;
  it->second.job.last_error = reason;
  it->second.lease_owner.clear();
  it->second.lease_expires_at.reset();
  return absl::OkStatus();
}

absl::Status FakePollingJobStore::ReleaseLeases(const std::string& owner) {
  absl::MutexLock lock(&mu_);
  for (auto& [id, row] : rows_) {
    if (LeasedTo(row, owner)) {
      row.lease_owner.clear();
      row.lease_expires_at.reset();
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> FakePollingJobStore::TickSymbols(
    const std::string& job_id, absl::Time tick_at) {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> symbols;
  for (const auto& [key, id] : ticks_) {
    if (std::get<0>(key) == job_id && std::get<1>(key) == tick_at) {
      symbols.push_back(std::get<2>(key));
    }
  }
  return symbols;
}

absl::StatusOr<bool> FakePollingJobStore::RecordTick(const PollTick& tick,
                                                     const std::string& symbol,
                                                     int64_t price_point_id) {
  absl::MutexLock lock(&mu_);
  auto it = rows_.find(tick.job_id);
  const bool fenced_in = it != rows_.end() && it->second.job.status == JobStatus::kRunning &&
                         LeasedTo(it->second, tick.owner) &&
                         it->second.lease_expires_at.has_value() &&
                         *it->second.lease_expires_at > clock_() &&
                         it->second.job.next_run_at == tick.tick_at;
  if (!fenced_in || !ticks_.emplace(std::make_tuple(tick.job_id, tick.tick_at, symbol),
                                    price_point_id).second) {
    ++refused_ticks_;
    return false;
  }
  return true;
}

std::map<std::tuple<std::string, absl::Time, std::string>, int64_t>
FakePollingJobStore::tick_records() const {
  absl::MutexLock lock(&mu_);
  return ticks_;
}

int FakePollingJobStore::refused_ticks() const {
  absl::MutexLock lock(&mu_);
  return refused_ticks_;
}

}  // namespace marketdata
