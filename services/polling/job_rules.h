// The rules of polling jobs: what a new job must satisfy, its id, and when it runs next.
#ifndef MARKETDATA_SERVICES_POLLING_JOB_RULES_H_
#define MARKETDATA_SERVICES_POLLING_JOB_RULES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/domain/polling_job.h"
#include "services/providers/registry.h"

namespace marketdata {
struct PollingLimits {
  int max_symbols = 50;
  int min_interval_seconds = 1;
  int max_interval_seconds = 86400;
};

// Checks a job request as a client sent it and normalises it. Every violation is
// INVALID_ARGUMENT naming the field (a missing field also carries the missing-field reason).
absl::StatusOr<JobConfig> ValidateJobConfig(const std::vector<std::string>& symbols,
                                            int interval_seconds, absl::string_view provider,
                                            const PollingLimits& limits,
                                            const ProviderRegistry& providers);

// "poll_" followed by 8 random lower-case hex digits.
std::string NewJobId();
bool IsValidJobId(absl::string_view job_id);

// The first tick on the job's grid (planned + k * interval, k >= 1) that is after `now`:
// the schedule never drifts with run time, and missed ticks are skipped rather than bunched.
absl::Time NextRunAfter(absl::Time planned, absl::Duration interval, absl::Time now);

}  // namespace marketdata

#endif  // MARKETDATA_SERVICES_POLLING_JOB_RULES_H_
