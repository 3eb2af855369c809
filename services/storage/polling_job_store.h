// PollingJobStore: polling jobs in PostgreSQL, shared by every mds-api replica. A replica runs
// a job only while it holds the job's lease, claimed with FOR UPDATE SKIP LOCKED and renewed
// while the run lasts, so each tick is run by exactly one replica.
#ifndef MARKETDATA_SERVICES_STORAGE_POLLING_JOB_STORE_H_
#define MARKETDATA_SERVICES_STORAGE_POLLING_JOB_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/domain/polling_job.h"
#include "services/domain/quote.h"
#include "services/storage/database.h"

namespace marketdata {

// Which jobs List returns; unset fields match every job.
struct JobFilter {
  std::optional<JobStatus> status;
  std::optional<int64_t> owner_key_id;
};

// What an owner's active (accepted or running) jobs hold.
struct JobUsage {
  int jobs = 0;
  int symbols = 0;
};

struct JobPage {
  std::vector<PollingJob> jobs;
  std::string next_page_token;  // empty on the last page
};

// The outcome of one run of a job.
struct JobRunResult {
  absl::Time started_at;
  absl::Time next_run_at;
  int errors = 0;
  std::string last_error;  // the last failure of this run, if any
};

class PollingJobStore {
 public:
  virtual ~PollingJobStore() = default;

  // ALREADY_EXISTS when the id is taken.
  virtual absl::StatusOr<PollingJob> Create(const std::string& job_id, const JobConfig& config) = 0;
  // NOT_FOUND for an unknown id.
  virtual absl::StatusOr<PollingJob> Get(const std::string& job_id) = 0;
  // Newest first. `page_token` comes from a previous page; INVALID_ARGUMENT when malformed.
  virtual absl::StatusOr<JobPage> List(const JobFilter& filter, int limit,
                                       const std::string& page_token) = 0;
  // The active jobs of `owner_key_id` and the symbols they hold.
  virtual absl::StatusOr<JobUsage> ActiveUsage(int64_t owner_key_id) = 0;
  // Marks the job stopped for good; NOT_FOUND for an unknown id. Stopping twice is harmless.
  virtual absl::StatusOr<PollingJob> Stop(const std::string& job_id) = 0;

  // Leases up to `limit` active jobs due before now + `lookahead` to `owner` for `lease`, marks
  // them running, and returns them with next_run_at being the planned time of this run.
  virtual absl::StatusOr<std::vector<PollingJob>> ClaimDue(const std::string& owner, int limit,
                                                           absl::Duration lookahead,
                                                           absl::Duration lease) = 0;
  // Extends the lease of `owner` on the job to now + `lease`. False, changing nothing, when
  // `owner` no longer holds it: the job was stopped or failed, or the lease ran out (another
  // replica may have claimed it since). An error says nothing either way.
  virtual absl::StatusOr<bool> RenewLease(const std::string& job_id, const std::string& owner,
                                          absl::Duration lease) = 0;
  // Records a run and releases the lease. Does nothing when `owner` lost the lease meanwhile, or
  // it ran out; a job stopped during the run stays stopped.
  virtual absl::Status CompleteRun(const std::string& job_id, const std::string& owner,
                                   const JobRunResult& result) = 0;
  // A job that can never run (e.g. its provider no longer exists).
  virtual absl::Status MarkFailed(const std::string& job_id, const std::string& owner,
                                  const std::string& reason) = 0;
  // Releases every lease held by `owner`: a restarted replica takes its jobs back at once
  // instead of waiting for its old leases to expire.
  virtual absl::Status ReleaseLeases(const std::string& owner) = 0;

  // The symbols a tick already holds a price of (a run of it that was interrupted stored them):
  // the run that completes the tick fetches only the others.
  virtual absl::StatusOr<std::vector<std::string>> TickSymbols(const std::string& job_id,
                                                               absl::Time tick_at) = 0;
  // Records `price_point_id` (0: a quote answered but not stored) as the tick's price of
  // `symbol`, a price some other request stored. False, recording nothing, when the tick already
  // has one, or `tick.owner` no longer holds the job's lease for this tick (see PollTick). A new
  // price of a tick is recorded with the price itself (SavePriceBatch), not here.
  virtual absl::StatusOr<bool> RecordTick(const PollTick& tick, const std::string& symbol,
                                          int64_t price_point_id) = 0;
};

class PostgresPollingJobStore final : public PollingJobStore {
 public:
  explicit PostgresPollingJobStore(Database& db) : db_(db) {}

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

 private:
  // Runs `statement` (the job id as $1, JOB_COLUMNS returned); NOT_FOUND when no row comes back.
  absl::StatusOr<PollingJob> OneJob(absl::string_view what, const PreparedSql& statement,
                                     const std::string& job_id);

  Database& db_;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_STORAGE_POLLING_JOB_STORE_H_
