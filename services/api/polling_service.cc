#include "services/api/polling_service.h"

#include "absl/strings/str_cat.h"
#include "services/common/grpc/errors.h"
#include "services/common/grpc/proto_time.h"
#include "services/common/grpc/request_checks.h"

namespace marketdata {
namespace {

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 500;
constexpr int kIdAttempts = 5;

// PollingJob and DeletePollingJobResponse carry the same fields.
template <typename Out>
void FillJob(const PollingJob& job, Out* out) {
  out->set_job_id(job.job_id);
  out->set_status(std::string(JobStatusName(job.status)));
  v1::PollingConfig* config = out->mutable_config();
  for (const std::string& symbol : job.config.symbols) config->add_symbols(symbol);
  config->set_interval(job.config.interval_seconds);
  config->set_provider(job.config.provider);
  ToProtoTimestamp(job.created_at, out->mutable_created_at());
  if (job.last_run_at.has_value()) ToProtoTimestamp(*job.last_run_at, out->mutable_last_run_at());
  if (job.status == JobStatus::kAccepted || job.status == JobStatus::kRunning) {
    ToProtoTimestamp(job.next_run_at, out->mutable_next_run_at());
  }
  out->set_run_count(job.run_count);
  out->set_error_count(job.error_count);
  out->set_last_error(job.last_error);
}

absl::Status CheckJobId(const std::string& job_id) {
  if (job_id.empty()) return MissingFieldError("job_id");
  if (!IsValidJobId(job_id)) {
    // Well-formed or not, no such job exists: the answer is the same as for an unknown id.
    return absl::NotFoundError(absl::StrCat("polling job ", job_id.substr(0, 64), " not found"));
  }
  return absl::OkStatus();
}

absl::Status NotFound(const std::string& job_id) {
  return absl::NotFoundError(absl::StrCat("polling job ", job_id, " not found"));
}

}  // namespace

absl::StatusOr<PollingJob> PollingServiceImpl::Visible(const std::string& job_id,
                                                       const Caller& caller) {
  if (absl::Status s = CheckJobId(job_id); !s.ok()) return s;
  absl::StatusOr<PollingJob> job = store_.Get(job_id);
  if (!job.ok()) return job.status();
  if (caller.key_id.has_value() && !caller.Has(Scope::kAdmin) &&
      job->config.owner_key_id != caller.key_id) {
    return NotFound(job_id);
  }
  return job;
}

absl::Status PollingServiceImpl::CheckQuota(const Caller& caller, const JobConfig& config) {
  if (!caller.key_id.has_value() || (caller.max_jobs <= 0 && caller.max_symbols <= 0)) {
    return absl::OkStatus();
  }
  absl::StatusOr<JobUsage> usage = store_.ActiveUsage(*caller.key_id);
  if (!usage.ok()) return usage.status();
  const int symbols = static_cast<int>(config.symbols.size());
  if (caller.max_jobs > 0 && usage->jobs + 1 > caller.max_jobs) {
    return absl::ResourceExhaustedError(
        absl::StrCat("API key ", caller.name, " already runs ", usage->jobs,
                     " polling jobs, its limit; stop one first"));
  }
  if (caller.max_symbols > 0 && usage->symbols + symbols > caller.max_symbols) {
    return absl::ResourceExhaustedError(
        absl::StrCat("API key ", caller.name, " polls ", usage->symbols, " symbols; ", symbols,
                     " more would pass its limit of ", caller.max_symbols));
  }
  return absl::OkStatus();
}

grpc::Status PollingServiceImpl::CreatePollingJob(grpc::ServerContext* context,
                                                  const v1::CreatePollingJobRequest* request,
                                                  v1::PollingJob* response) {
  absl::StatusOr<Caller> caller = auth_.Authorize(*context, Scope::kWrite);
  if (!caller.ok()) return ToGrpcStatus(caller.status(), context);
  std::vector<std::string> symbols(request->symbols().begin(), request->symbols().end());
  absl::StatusOr<JobConfig> config =
      ValidateJobConfig(symbols, request->interval(), request->provider(), limits_, providers_);
  if (!config.ok()) return ToGrpcStatus(config.status(), context);
  config->owner_key_id = caller->key_id;
  if (absl::Status s = CheckQuota(*caller, *config); !s.ok()) return ToGrpcStatus(s, context);
  absl::StatusOr<PollingJob> job = absl::InternalError("no job id attempt made");
  for (int attempt = 0; attempt < kIdAttempts; ++attempt) {
    job = store_.Create(NewJobId(), *config);
    if (job.status().code() != absl::StatusCode::kAlreadyExists) break;
  }
  if (!job.ok()) return ToGrpcStatus(job.status(), context);
  FillJob(*job, response);
  return grpc::Status::OK;
}

grpc::Status PollingServiceImpl::GetPollingJob(grpc::ServerContext* context,
                                               const v1::GetPollingJobRequest* request,
                                               v1::PollingJob* response) {
  absl::StatusOr<Caller> caller = auth_.Authorize(*context, Scope::kRead);
  if (!caller.ok()) return ToGrpcStatus(caller.status(), context);
  absl::StatusOr<PollingJob> job = Visible(request->job_id(), *caller);
  if (!job.ok()) return ToGrpcStatus(job.status(), context);
  FillJob(*job, response);
  return grpc::Status::OK;
}

grpc::Status PollingServiceImpl::ListPollingJobs(grpc::ServerContext* context,
                                                 const v1::ListPollingJobsRequest* request,
                                                 v1::ListPollingJobsResponse* response) {
  absl::StatusOr<Caller> caller = auth_.Authorize(*context, Scope::kRead);
  if (!caller.ok()) return ToGrpcStatus(caller.status(), context);
  JobFilter filter;
  if (!caller->Has(Scope::kAdmin)) filter.owner_key_id = caller->key_id;
  if (!request->status().empty()) {
    absl::StatusOr<JobStatus> parsed = ParseJobStatus(request->status());
    if (!parsed.ok()) return ToGrpcStatus(parsed.status(), context);
    filter.status = *parsed;
  }
  absl::StatusOr<int> limit = CheckLimit(request->limit(), kDefaultPageSize, kMaxPageSize);
  if (!limit.ok()) return ToGrpcStatus(limit.status(), context);
  if (absl::Status s = CheckJobPageToken(request->page_token()); !s.ok()) {
    return ToGrpcStatus(s, context);
  }
  absl::StatusOr<JobPage> page = store_.List(filter, *limit, request->page_token());
  if (!page.ok()) return ToGrpcStatus(page.status(), context);
  for (const PollingJob& job : page->jobs) FillJob(job, response->add_jobs());
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status PollingServiceImpl::DeletePollingJob(grpc::ServerContext* context,
                                                  const v1::DeletePollingJobRequest* request,
                                                  v1::DeletePollingJobResponse* response) {
  absl::StatusOr<Caller> caller = auth_.Authorize(*context, Scope::kWrite);
  if (!caller.ok()) return ToGrpcStatus(caller.status(), context);
  if (absl::StatusOr<PollingJob> visible = Visible(request->job_id(), *caller); !visible.ok()) {
    return ToGrpcStatus(visible.status(), context);
  }
  absl::StatusOr<PollingJob> job = store_.Stop(request->job_id());
  if (!job.ok()) return ToGrpcStatus(job.status(), context);
  FillJob(*job, response);
  response->set_message(absl::StrCat("Polling job ", job->job_id, " stopped"));
  return grpc::Status::OK;
}

}  // namespace marketdata
