// An in-memory PollingJobStore for tests, following the lease rules of the PostgreSQL store:
// claims skip leased jobs until their lease runs out, and renewals, completions and failures
// apply only for the lease's owner; tick records pass the same fence (see PollTick). Unlike the
// PostgreSQL store it keeps the records of completed ticks, for tests to count.
#ifndef MARKETDATA_SERVICES_POLLING_FAKE_POLLING_JOB_STORE_H_
#define MARKETDATA_SERVICES_POLLING_FAKE_POLLING_JOB_STORE_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "services/storage/polling_job_store.h"

namespace marketdata {

class FakePollingJobStore final : public PollingJobStore {
 public:
  struct Row {
    PollingJob job;
    std::string lease_owner;  // empty: not leased
    std::optional<absl::Time> lease_expires_at;
  };

  explicit FakePollingJobStore(std::function<absl::Time()> clock = absl::Now)
      : clock_(std::move(clock)) {}

  // Adds `job` as is (its status and next_run_at included).
  void Put(PollingJob job);
  std::optional<Row> row(const std::string& job_id) const;
  // Every renewal answers `status` while it is not OK.
  void FailRenewals(absl::Status status);
  int renewals() const;
  // CompleteRun calls by the lease's owner after its lease had run out (a run outlived its
  // lease); they record nothing.
  int completions_after_expiry() const;

  absl::StatusOr<PollingJob> Create(const std::string& job_id, const JobConfig& config) override;
  absl::StatusOr<PollingJob> Get(const std::string& job_id) override;
  absl::StatusOr<JobPage> List(const JobFilter& filter, int limit,
                               const std::string& page_token) override;
  absl::StatusOr<JobUsage> ActiveUsage(int64_t owner_key_id) override;
  absl::StatusOr<PollingJob> Stop(const std::string& job_id) override;
  absl::StatusOr<std::vector<PollingJob>> ClaimDue(const std::string& owner, int limit,
                                                   absl::Duration lookahead,
                                                   absl::Duration lease) override;
  absl::StatusOr<bool> RenewLease(const std::string& job_id, const std::string& owner,
                                  absl::Duration lease) override;
  absl::Status CompleteRun(const std::string& job_id, const std::string& owner,
                           const JobRunResult& result) override;
  absl::Status MarkFailed(const std::string& job_id, const std::string& owner,
                          const std::string& reason) override;
  absl::Status ReleaseLeases(const std::string& owner) override;
  absl::StatusOr<std::vector<std::string>> TickSymbols(const std::string& job_id,
                                                       absl::Time tick_at) override;
  absl::StatusOr<bool> RecordTick(const PollTick& tick, const std::string& symbol,
                                  int64_t price_point_id) override;

  // Every tick record ever written, completed ticks' included: (job, tick, symbol) -> price id.
  std::map<std::tuple<std::string, absl::Time, std::string>, int64_t> tick_records() const;
  // RecordTick calls refused, by the fence or because the tick already had the symbol.
  int refused_ticks() const;

 private:
  bool LeasedTo(const Row& row, const std::string& owner) const;

  const std::function<absl::Time()> clock_;
  mutable absl::Mutex mu_;
  std::map<std::string, Row> rows_ ABSL_GUARDED_BY(mu_);
  absl::Status renew_status_ ABSL_GUARDED_BY(mu_);
  int renewals_ ABSL_GUARDED_BY(mu_) = 0;
  int completions_after_expiry_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::tuple<std::string, absl::Time, std::string>, int64_t> ticks_
      ABSL_GUARDED_BY(mu_);
  int refused_ticks_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_POLLING_FAKE_POLLING_JOB_STORE_H_
