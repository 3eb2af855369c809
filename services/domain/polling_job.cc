#include "services/domain/polling_job.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace marketdata {

absl::string_view JobStatusName(JobStatus status) {
  switch (status) {
    case JobStatus::kAccepted:
      return "accepted";
    case JobStatus::kRunning:
      return "running";
    case JobStatus::kStopped:
      return "stopped";
    case JobStatus::kFailed:
      return "failed";
  }
  return "unknown";
}

absl::StatusOr<JobStatus> ParseJobStatus(absl::string_view name) {
  for (JobStatus s : {JobStatus::kAccepted, JobStatus::kRunning, JobStatus::kStopped,
                      JobStatus::kFailed}) {
    if (absl::AsciiStrToLower(name) == JobStatusName(s)) return s;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("invalid status \"", name.substr(0, 32),
                   "\": expected accepted, running, stopped or failed"));
}

}  // namespace marketdata
