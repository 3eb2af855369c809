// Polling jobs as stored and served: status, configuration and run statistics.
#ifndef MARKETDATA_SERVICES_DOMAIN_POLLING_JOB_H_
#define MARKETDATA_SERVICES_DOMAIN_POLLING_JOB_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace marketdata {

enum class JobStatus { kAccepted, kRunning, kStopped, kFailed };

absl::string_view JobStatusName(JobStatus status);
// "accepted", "running", "stopped" or "failed"; anything else is INVALID_ARGUMENT.
absl::StatusOr<JobStatus> ParseJobStatus(absl::string_view name);

struct JobConfig {
  std::vector<std::string> symbols;  // normalised, unique, in order of first appearance
  int interval_seconds = 0;
  std::string provider;
  // The API key that created the job; unset when keys were not required.
  std::optional<int64_t> owner_key_id;
};

struct PollingJob {
  std::string job_id;
  JobStatus status = JobStatus::kAccepted;
  JobConfig config;
  absl::Time created_at;
  std::optional<absl::Time> last_run_at;
  absl::Time next_run_at;
  int run_count = 0;
  int error_count = 0;  // failed symbol fetches over all runs
  std::string last_error;
};

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_DOMAIN_POLLING_JOB_H_
